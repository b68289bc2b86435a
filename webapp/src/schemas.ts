// JSON response schemas: what each route promises, and what fast-json-stringify serialises from.

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
  properties: { status: { type: 'string', enum: ['ok'] } },
} as const;

/** /api/roll and /bench/roll-new-channel. */
export const rollResponses = { 200: rollSchema, '4xx': diceErrorSchema, '5xx': diceErrorSchema } as const;
