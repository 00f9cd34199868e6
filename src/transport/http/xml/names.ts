/**
 * Object keys as XML element names, and back. A key that is a plain XML name is the element's name;
 * any other character is written `_xHHHH_` (its UTF-16 code unit in hex), as .NET's
 * `XmlConvert.EncodeLocalName` does: `"a b"` is `a_x0020_b`, `"1st"` is `_x0031_st`. An underscore
 * followed by `x` is escaped (`_x005F_`), and so is the first character of a key that XML reserves
 * (`xml…`). The empty key is `_x_`.
 */
const nameStart = /[A-Za-z_\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c-\u200d\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd]/;
const nameChar = /[\u0300-\u036f\-.0-9\u00b7\u203f\u2040A-Za-z_\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c-\u200d\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd]/;
const plainName = /^[A-Za-z][A-Za-z0-9]*$/;
const escaped = /_x([0-9A-Fa-f]{4})_/g;
const EMPTY = '_x_';

export function encodeName(key: string): string {
  if (key === '') return EMPTY;
  const reserved = /^xml/i.test(key);
  if (plainName.test(key) && !reserved) return key;
  let out = '';
  for (let i = 0; i < key.length; i++) {
    const char = key[i]!;
    const fits = i === 0 ? nameStart.test(char) && !reserved : nameChar.test(char);
    out += fits && !(char === '_' && key[i + 1] === 'x') ? char : `_x${char.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}_`;
  }
  return out;
}

export function decodeName(name: string): string {
  if (name === EMPTY) return '';
  return name.includes('_x') ? name.replace(escaped, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))) : name;
}
