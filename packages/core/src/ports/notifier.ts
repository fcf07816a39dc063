import type { Notification } from "../escalation/notification.ts";

/**
 * Delivers one notification on one channel (`sns:<topic>`, `webhook:<name>`, `outbox`). Throws
 * `ChannelUnavailableError` when a retry may help (the state machine retries, then tries the next channel) and
 * `ChannelRejectedError` when it cannot (unknown channel, 4xx from the receiver).
 */
export interface Notifier {
  send(notification: Notification): Promise<void>;
}
