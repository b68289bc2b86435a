const faces = ['⚀', '⚁', '⚂', '⚃', '⚄', '⚅'];

/** The Unicode die face (U+2680..U+2685) for a value from 1 to 6. */
export function dieFace(value: number): string {
  const face = faces[value - 1];
  if (!Number.isInteger(value) || face === undefined) throw new RangeError(`a die has no face ${value}`);
  return face;
}
