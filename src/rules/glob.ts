/**
 * Dubbo's value wildcard (`UrlUtils.isMatchGlobPattern`): `*` alone matches anything; otherwise only
 * the last `*` is a wildcard (earlier ones are literal), standing for any text at the end
 * (`get*`), the start (`*Service`) or in between (`10.*.1`, where prefix and suffix may overlap, as
 * in Dubbo); without `*` the value must equal the pattern. Empty text matches only empty text.
 */
export function globMatch(pattern: string, value: string): boolean {
  if (pattern === '*') return true;
  if (pattern === '' || value === '') return pattern === value;
  const star = pattern.lastIndexOf('*');
  if (star < 0) return value === pattern;
  if (star === pattern.length - 1) return value.startsWith(pattern.slice(0, star));
  if (star === 0) return value.endsWith(pattern.slice(1));
  return value.startsWith(pattern.slice(0, star)) && value.endsWith(pattern.slice(star + 1));
}

/** A glob compiled once, for patterns known when a rule is read. */
export type CompiledGlob =
  | { readonly kind: 'any' }
  | { readonly kind: 'exact'; readonly text: string }
  | { readonly kind: 'prefix'; readonly text: string }
  | { readonly kind: 'suffix'; readonly text: string }
  | { readonly kind: 'infix'; readonly prefix: string; readonly suffix: string };

export function compileGlob(pattern: string): CompiledGlob {
  if (pattern === '*') return { kind: 'any' };
  const star = pattern.lastIndexOf('*');
  if (star < 0) return { kind: 'exact', text: pattern };
  if (star === pattern.length - 1) return { kind: 'prefix', text: pattern.slice(0, star) };
  if (star === 0) return { kind: 'suffix', text: pattern.slice(1) };
  return { kind: 'infix', prefix: pattern.slice(0, star), suffix: pattern.slice(star + 1) };
}

/** A test giving the same answers as `globMatch(pattern, value)` for the pattern `glob` was compiled from. */
export function globTest(glob: CompiledGlob): (value: string) => boolean {
  switch (glob.kind) {
    case 'any':
      return () => true;
    case 'exact':
      return (value) => value === glob.text;
    case 'prefix':
      return (value) => value !== '' && value.startsWith(glob.text);
    case 'suffix':
      return (value) => value !== '' && value.endsWith(glob.text);
    case 'infix':
      return (value) => value !== '' && value.startsWith(glob.prefix) && value.endsWith(glob.suffix);
  }
}
