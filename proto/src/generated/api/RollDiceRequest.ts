// Original file: api.proto


export interface RollDiceRequest {
  'count'?: (number);
  'intervalMs'?: (number);
}

export interface RollDiceRequest__Output {
  'count': (number);
  'intervalMs': (number);
}
