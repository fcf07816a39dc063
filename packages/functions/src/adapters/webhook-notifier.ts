import { z } from "zod";
import { retryWithBackoff } from "@driftwatch/core/escalation/backoff";
import { parseChannel } from "@driftwatch/core/escalation/channel";
import { ChannelRejectedError, ChannelUnavailableError } from "@driftwatch/core/escalation/errors";
import type { Clock } from "@driftwatch/core/ports/clock";
import type { Notifier } from "@driftwatch/core/ports/notifier";
import {
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  signWebhookBody,
  slackMessage,
} from "@driftwatch/core/escalation/webhook";

/** One webhook endpoint: where to POST and the shared secret the receiver verifies signatures with. */
export const webhookEndpointSchema = z.object({
  url: z.string().url(),
  signingSecret: z.string().min(16),
});
export const webhookEndpointsSchema = z.record(webhookEndpointSchema);
export type WebhookEndpoints = z.infer<typeof webhookEndpointsSchema>;

export interface WebhookNotifierOptions {
  /** In-process attempts per send (exponential backoff with jitter); the state machine retries on top. */
  attempts?: number;
  baseDelayMs?: number;
  timeoutMs?: number;
  clock: Clock;
  fetch?: typeof fetch;
}

/**
 * `webhook:<name>` channels: POSTs a Slack-compatible JSON message, signed (`X-Driftwatch-Signature`,
 * `X-Driftwatch-Request-Timestamp`), retrying 429/5xx/network errors with backoff. 4xx other than 408/429 is a
 * permanent rejection; retries exhausted raise ChannelUnavailableError (retried by the state machine).
 */
export function createWebhookNotifier(
  endpoints: WebhookEndpoints,
  options: WebhookNotifierOptions,
): Notifier {
  const doFetch = options.fetch ?? fetch;
  return {
    async send(notification) {
      const { target } = parseChannel(notification.channel);
      const endpoint = endpoints[target];
      if (!endpoint) {
        throw new ChannelRejectedError(`no webhook configured for ${notification.channel}`, {
          code: "UNKNOWN_WEBHOOK",
        });
      }
      const body = JSON.stringify(slackMessage(notification));
      await retryWithBackoff(
        async () => {
          const ts = Math.floor(options.clock.now() / 1000);
          let response: Response;
          try {
            response = await doFetch(endpoint.url, {
              method: "POST",
              headers: {
                "content-type": "application/json",
                [TIMESTAMP_HEADER]: String(ts),
                [SIGNATURE_HEADER]: signWebhookBody(endpoint.signingSecret, ts, body),
                "user-agent": "driftwatch-escalation",
              },
              body,
              signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
            });
          } catch (cause) {
            throw new ChannelUnavailableError(`webhook ${target} unreachable`, {
              cause,
              code: "WEBHOOK_UNREACHABLE",
            });
          }
          await response.arrayBuffer().catch(() => undefined);
          if (response.ok) return;
          if (response.status === 408 || response.status === 429 || response.status >= 500) {
            throw new ChannelUnavailableError(`webhook ${target} answered ${response.status}`, {
              code: `HTTP_${response.status}`,
            });
          }
          throw new ChannelRejectedError(`webhook ${target} rejected the message (${response.status})`, {
            code: `HTTP_${response.status}`,
          });
        },
        {
          attempts: options.attempts ?? 3,
          baseMs: options.baseDelayMs ?? 200,
          maxMs: 2000,
          isRetryable: (error) => error instanceof ChannelUnavailableError,
        },
      );
    },
  };
}
