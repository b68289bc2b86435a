// Original file: api.proto


export interface RollDieRequest {
}

export interface RollDieRequest__Output {
}
