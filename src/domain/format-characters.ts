/**
 * Unicode format characters (`\p{Cf}`) in file names: invisible, and some of them change how the
 * rest of a name is shown.
 *
 * - Embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069) reorder what follows:
 *   `U+202E gpj.lmth.jpg` shows as `gpj.html.jpg`... read backwards, so that a download can look
 *   like another type. No real file name needs them (a right-to-left name shows correctly without
 *   them), and a name built to deceive is refused rather than quietly repaired: the uploader
 *   learns why, and nothing misleading is ever stored.
 * - Every other format character is removed: zero-width spaces, word joiners, byte order marks,
 *   soft hyphens, left-to-right and right-to-left marks (which Windows puts into copied dates,
 *   so refusing them would refuse real files), tags. Except where they are part of what is
 *   written: ZWJ and ZWNJ between letters (Persian, Indic scripts) or within an emoji sequence
 *   (👩‍💻), and the tag characters of a subdivision flag (🏴 + tags + cancel tag).
 */
const BIDI_CONTROLS = /[\u202a-\u202e\u2066-\u2069]/u;

/**
 * One pass over the name: a subdivision flag (black flag, tag letters, cancel tag) is matched
 * whole and kept; any other format character, the bidi controls aside (refused above), is looked at.
 */
const FLAG_OR_FORMAT = /(\u{1F3F4}[\u{E0020}-\u{E007E}]+\u{E007F})|(?![\u202a-\u202e\u2066-\u2069])\p{Cf}/gu;
/** What ZWJ/ZWNJ join when they are writing: letters, marks, emoji and their modifiers. */
const JOINABLE = /^[\p{L}\p{M}\p{Extended_Pictographic}\p{Emoji_Modifier}\uFE0F]$/u;
const ZERO_WIDTH_JOINERS = new Set(['\u200c', '\u200d']);

export function hasBidiControls(fileName: string): boolean {
  return BIDI_CONTROLS.test(fileName);
}

/** `fileName` without invisible format characters, as the rules above say; unchanged when it has none. */
export function withoutInvisibleFormatting(fileName: string): string {
  if (!/\p{Cf}/u.test(fileName)) return fileName;
  return fileName.replace(FLAG_OR_FORMAT, (match: string, flag: string | undefined, offset: number) => {
    if (flag !== undefined) return flag;
    if (!ZERO_WIDTH_JOINERS.has(match)) return '';
    const before = Array.from(fileName.slice(Math.max(0, offset - 2), offset)).at(-1) ?? '';
    const after = Array.from(fileName.slice(offset + 1, offset + 3))[0] ?? '';
    return JOINABLE.test(before) && JOINABLE.test(after) ? match : '';
  });
}
