import type { Notifier } from "../ports/notifier.ts";
import { parseChannel, type ChannelKind } from "./channel.ts";
import { ChannelRejectedError } from "./errors.ts";

/**
 * Routes a notification to the notifier of its channel kind (`sns:…`, `webhook:…`, `outbox`). A kind with no
 * notifier in this environment is a permanent failure (the state machine moves on to the next channel).
 */
export function createChannelRouter(notifiers: Partial<Record<ChannelKind, Notifier>>): Notifier {
  return {
    async send(notification) {
      let kind: ChannelKind;
      try {
        kind = parseChannel(notification.channel).kind;
      } catch (cause) {
        throw new ChannelRejectedError(`unknown channel ${notification.channel}`, {
          cause,
          code: "UNKNOWN_CHANNEL",
        });
      }
      const notifier = notifiers[kind];
      if (!notifier) {
        throw new ChannelRejectedError(`channel ${notification.channel} is not configured here`, {
          code: "CHANNEL_NOT_CONFIGURED",
        });
      }
      await notifier.send(notification);
    },
  };
}
