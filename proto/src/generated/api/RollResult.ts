// Original file: api.proto


export interface RollResult {
  'tag'?: (string);
  'values'?: (number)[];
}

export interface RollResult__Output {
  'tag': (string);
  'values': (number)[];
}
