// Server-Sent Events (text/event-stream): one event per roll as it arrives, then how the stream ended.
import { DiceCallError, type RollResult } from './dice-channel.ts';
import { httpAnswerFor } from './http-answers.ts';

/** One event in the text/event-stream format: a name and one line of JSON. */
export function serverSentEvent(name: string, data: unknown): string {
  return `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** The `failure` sentence of a stream ended because the web app is shutting down. */
export const shuttingDownSentence = 'The web app is restarting; roll again in a moment';

/**
 * The events of a RollDice stream whose first result was already read: `roll` ({value, replica})
 * for each die, then `end` ({count}), or `failure` ({error, grpcCode, count}) with the same sentence
 * the page would show when the service fails part-way. Ending early (the browser left) ends the
 * rolls, which cancels the gRPC call. When `shutdown` is aborted the rolls are cancelled (their
 * signal) and the stream ends with a `failure` saying so, so a shutdown is never held by a stream.
 */
export async function* rollEvents(first: IteratorResult<RollResult>, rolls: AsyncIterator<RollResult>, onFailure: (error: DiceCallError, count: number) => void, shutdown?: AbortSignal): AsyncGenerator<string> {
  let count = 0;
  try {
    for (let next = first; !next.done; next = await rolls.next()) {
      count += 1;
      yield serverSentEvent('roll', next.value);
    }
    yield serverSentEvent('end', { count });
  } catch (error) {
    if (!(error instanceof DiceCallError)) throw error;
    if (shutdown?.aborted) {
      yield serverSentEvent('failure', { error: shuttingDownSentence, grpcCode: 'UNAVAILABLE', count });
      return;
    }
    onFailure(error, count);
    const { sentence, grpcCode } = httpAnswerFor(error);
    yield serverSentEvent('failure', { error: sentence, grpcCode, count });
  } finally {
    await rolls.return?.();
  }
}
