// Original file: api.proto


export interface RollDieResponse {
  'value'?: (number);
}

export interface RollDieResponse__Output {
  'value': (number);
}
