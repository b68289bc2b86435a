// Original file: api.proto


export interface RollRequest {
  'tag'?: (string);
  'count'?: (number);
}

export interface RollRequest__Output {
  'tag': (string);
  'count': (number);
}
