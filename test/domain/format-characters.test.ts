import { describe, expect, it } from 'vitest';
import { checkFileName } from '../../src/domain/file-types.ts';
import { InvalidFileName } from '../../src/domain/errors.ts';
import { hasBidiControls, withoutInvisibleFormatting } from '../../src/domain/format-characters.ts';

describe('format characters in file names', () => {
  it.each(['\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2067', '\u2068', '\u2069'])(
    'refuses the bidi control U+%s',
    (control) => {
      expect(hasBidiControls(`${control}gpj.lmth.jpg`)).toBe(true);
      expect(() => checkFileName(`invoice${control}fdp.exe.pdf`)).toThrow(InvalidFileName);
    },
  );

  it.each([
    ['zero-width space', 'a\u200bb.jpg', 'ab.jpg'],
    ['word joiner', 'a\u2060b.jpg', 'ab.jpg'],
    ['byte order mark', '\ufeffbom.pdf', 'bom.pdf'],
    ['soft hyphen', 'soft\u00adhyphen.doc', 'softhyphen.doc'],
    ['left-to-right and right-to-left marks', '\u200e12\u200f-07\u061c.pdf', '12-07.pdf'],
    ['a stray tag character', 'a\u{E0067}b.jpg', 'ab.jpg'],
    ['ZWJ at the start', '\u200dx.png', 'x.png'],
    ['ZWJ before the dot', 'x\u200d.png', 'x.png'],
    ['ZWNJ between digits', '1\u200c2.png', '12.png'],
  ])('removes a %s', (_, name, cleaned) => {
    expect(withoutInvisibleFormatting(name)).toBe(cleaned);
  });

  it.each([
    ['a Persian ZWNJ', 'می\u200cخواهم.pdf'],
    ['a Devanagari ZWJ', 'क्\u200dष.jpg'],
    ['an emoji ZWJ sequence', '👩\u200d💻.png'],
    ['an emoji with a skin tone in a ZWJ sequence', '🧑🏽\u200d🚀.png'],
    ['a subdivision flag (tag characters)', '🏴\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}.jpg'],
    ['a plain name', 'Фото 2024.jpg'],
  ])('keeps %s', (_, name) => {
    expect(withoutInvisibleFormatting(name)).toBe(name);
  });

  it('leaves bidi controls for checkFileName to refuse', () => {
    expect(withoutInvisibleFormatting('\u202egpj.lmth.jpg')).toBe('\u202egpj.lmth.jpg');
  });
});
