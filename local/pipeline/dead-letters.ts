/** The dead-letter queue as the status page and the dev terminal show it. */
import type { DeadLetterEntry } from '../runtime';

/** Reads the dead-letter queue without receiving from it (fauxqs's inspection endpoint), oldest first. */
export async function inspectDeadLetters(endpoint: string, queueName: string): Promise<DeadLetterEntry[]> {
  const response = await fetch(`${endpoint}/_fauxqs/queues/${queueName}`, { signal: AbortSignal.timeout(5000) });
  if (!response.ok) throw new Error(`the dead-letter queue could not be inspected: HTTP ${response.status}`);
  type Inspected = { messageId: string; sentTimestamp?: number; messageAttributes?: Record<string, { StringValue?: string }> };
  const body = (await response.json()) as { messages: { ready: Inspected[]; delayed: Inspected[]; inflight: Array<{ message: Inspected }> } };
  const all = [...body.messages.ready, ...body.messages.delayed, ...body.messages.inflight.map((m) => m.message)];
  all.sort((x, y) => (x.sentTimestamp ?? 0) - (y.sentTimestamp ?? 0));
  return all.map((m) => {
    const attr = (name: string) => m.messageAttributes?.[name]?.StringValue;
    return {
      messageId: m.messageId,
      // A message moved by the redrive policy (its receives ran out) carries no reason of ours.
      failureReason: attr('failureReason') ?? 'max_receive_count_exceeded',
      eventId: attr('eventId'),
      eventType: attr('eventType'),
      sessionId: attr('sessionId'),
      attempts: attr('attempts'),
      failedAt: attr('failedAt'),
    };
  });
}

/** Tells `onDeadLetter` about each new dead-letter message, checking every second. */
export function watchDeadLetters(endpoint: string, queueName: string, onDeadLetter?: (message: DeadLetterEntry, count: number) => void): { stop(): void } {
  if (!onDeadLetter) return { stop: () => undefined };
  const seen = new Set<string>();
  let checking = false;
  const timer = setInterval(() => {
    if (checking) return;
    checking = true;
    inspectDeadLetters(endpoint, queueName)
      .then((messages) => {
        for (const m of messages) {
          if (seen.has(m.messageId)) continue;
          seen.add(m.messageId);
          onDeadLetter(m, messages.length);
        }
      })
      .catch(() => undefined)
      .finally(() => (checking = false));
  }, 1000);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
