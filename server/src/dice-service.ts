import { randomInt } from 'node:crypto';
import { status, type ServerErrorResponse } from '@grpc/grpc-js';
import type { DiceServiceHandlers, RollRequest__Output } from '@dice/proto';
import type { Logger } from 'pino';
import { rollDiceProblem, rollRequestProblem } from './roll-requests.ts';

export type Roll = () => number | Promise<number>;

/** A fair six-sided die from the operating system's CSPRNG. */
export const rollFairDie: Roll = () => randomInt(1, 7);

function invalidArgument(details: string): Partial<ServerErrorResponse> {
  return { code: status.INVALID_ARGUMENT, details };
}

export function createDiceHandlers(logger: Logger, roll: Roll = rollFairDie): DiceServiceHandlers {
  // The cause stays in our log; the caller gets a status it can act on, not our internals.
  const rollFailed = (method: string, error: unknown): Partial<ServerErrorResponse> => {
    logger.error({ err: error }, `${method} failed`);
    return { code: status.INTERNAL, details: 'the die could not be rolled' };
  };

  return {
    RollDie(_call, callback) {
      Promise.resolve()
        .then(roll)
        .then(
          (value) => callback(null, { value }),
          (error: unknown) => callback(rollFailed('RollDie', error)),
        );
    },

    RollDice(call) {
      const problem = rollDiceProblem(call.request);
      if (problem !== undefined) return void call.emit('error', invalidArgument(problem));
      const { count, intervalMs } = call.request;
      let sent = 0;
      let timer: NodeJS.Timeout | undefined;
      // A cancelled call (the caller's deadline, a reset, the server ending the stream) rolls no more.
      call.on('cancelled', () => clearTimeout(timer));
      const rollNext = async (): Promise<void> => {
        let value: number;
        try {
          value = await roll();
        } catch (error) {
          return void call.emit('error', rollFailed('RollDice', error));
        }
        if (call.cancelled) return;
        call.write({ value });
        sent += 1;
        if (sent === count) return void call.end();
        timer = setTimeout(() => void rollNext(), intervalMs);
      };
      void rollNext();
    },

    RollOnDemand(call) {
      // Answers go out in the order the requests came in, each after the one before.
      let answered = Promise.resolve();
      let failed = false;
      const fail = (error: Partial<ServerErrorResponse>): void => {
        if (failed) return;
        failed = true;
        call.emit('error', error);
      };
      call.on('data', (request: RollRequest__Output) => {
        const problem = rollRequestProblem(request);
        if (problem !== undefined) return fail(invalidArgument(problem));
        answered = answered.then(async () => {
          if (failed || call.cancelled) return;
          const values: number[] = [];
          try {
            for (let i = 0; i < request.count; i++) values.push(await roll());
          } catch (error) {
            return fail(rollFailed('RollOnDemand', error));
          }
          if (!failed && !call.cancelled) call.write({ tag: request.tag, values });
        });
      });
      // The client is done asking: end the stream once the last answer is out.
      call.on('end', () => void answered.then(() => failed || call.cancelled || call.end()));
    },
  };
}
