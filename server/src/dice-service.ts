import { randomInt } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import type { DiceServiceHandlers } from '@dice/proto';
import type { Logger } from 'pino';

export type Roll = () => number | Promise<number>;

/** A fair six-sided die from the operating system's CSPRNG. */
export const rollFairDie: Roll = () => randomInt(1, 7);

export function createDiceHandlers(logger: Logger, roll: Roll = rollFairDie): DiceServiceHandlers {
  return {
    RollDie(_call, callback) {
      Promise.resolve()
        .then(roll)
        .then(
          (value) => callback(null, { value }),
          (error: unknown) => {
            // The cause stays in our log; the caller gets a status it can act on, not our internals.
            logger.error({ err: error }, 'RollDie failed');
            callback({ code: status.INTERNAL, details: 'the die could not be rolled' });
          },
        );
    },
  };
}
