// Test support: a DiceRoller without a channel. RollDice defaults to `count` calls of roll().
import type { DiceRoller, RollResult } from '../dice-channel.ts';

export function fakeDice({ roll = async () => ({ value: 1 }), rollDice }: { roll?: DiceRoller['roll']; rollDice?: DiceRoller['rollDice'] }): DiceRoller {
  return {
    roll,
    rollDice:
      rollDice ??
      async function* ({ count, requestId }): AsyncIterable<RollResult> {
        for (let i = 0; i < count; i++) yield await roll(requestId === undefined ? {} : { requestId });
      },
    close() {},
  };
}
