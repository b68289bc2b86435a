// JSON schemas: what each route accepts, what it promises, and what fast-json-stringify serialises from.
import { rollLimits } from '@dice/proto';

export const rollSchema = {
  type: 'object',
  required: ['value'],
  additionalProperties: false,
  properties: {
    value: { type: 'integer', minimum: 1, maximum: 6 },
    /** The server replica that rolled (x-dice-replica). */
    replica: { type: 'string' },
  },
} as const;

/** A failed dice call: a sentence for people, the gRPC code for programs. */
export const diceErrorSchema = {
  type: 'object',
  required: ['error'],
  additionalProperties: false,
  properties: {
    error: { type: 'string' },
    grpcCode: { type: 'string' },
  },
} as const;

export const healthSchema = {
  type: 'object',
  required: ['status'],
  additionalProperties: false,
  properties: { status: { type: 'string', enum: ['ok', 'degraded'] }, problems: { type: 'array', items: { type: 'string' } } },
} as const;

/** /api/roll and /bench/roll-new-channel. */
export const rollResponses = { 200: rollSchema, '4xx': diceErrorSchema, '5xx': diceErrorSchema } as const;

/** How many dice one request may roll, as the dice service allows. */
const diceCount = { type: 'integer', minimum: rollLimits.count.min, maximum: rollLimits.count.max } as const;

/** GET /api/roll-dice: how many dice, and the pause between two (the page's default lets them arrive visibly). */
export const rollDiceQuery = {
  type: 'object',
  required: ['count'],
  additionalProperties: false,
  properties: {
    count: diceCount,
    interval_ms: { type: 'integer', minimum: 0, maximum: 2000, default: 300 },
  },
} as const;

/** GET /: with `count`, the page shows that many dice (the form's answer without JavaScript). */
export const pageQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { count: diceCount },
} as const;
