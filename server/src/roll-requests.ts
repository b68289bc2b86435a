import { rollLimits, type RollDiceRequest__Output, type RollRequest__Output } from '@dice/proto';

type Range = { readonly min: number; readonly max: number };

function outOfRange(field: string, value: number, { min, max }: Range): string | undefined {
  return Number.isInteger(value) && value >= min && value <= max ? undefined : `${field} must be between ${min} and ${max} (got ${value})`;
}

/** Why a RollDice request cannot be served, as a sentence naming the field and its range; undefined when it can. */
export function rollDiceProblem({ count, intervalMs }: RollDiceRequest__Output): string | undefined {
  return outOfRange('count', count, rollLimits.count) ?? outOfRange('interval_ms', intervalMs, rollLimits.intervalMs);
}

/** Why one RollOnDemand request cannot be served; undefined when it can. */
export function rollRequestProblem({ tag, count }: RollRequest__Output): string | undefined {
  const tagBytes = Buffer.byteLength(tag);
  if (tagBytes > rollLimits.tagBytes) return `tag must be at most ${rollLimits.tagBytes} bytes (got ${tagBytes})`;
  return outOfRange('count', count, rollLimits.count);
}
