import { InvalidFileName, UnsupportedFileType } from './errors.ts';
import { hasBidiControls } from './format-characters.ts';

/** Longest client file name accepted, in characters: file systems allow 255 bytes, browsers send no more. */
export const MAX_FILE_NAME_LENGTH = 255;

/**
 * Refuses names no real file has: control characters (NUL, CR, LF, ESC, C1), a `..` path
 * segment (a traversal attempt; old clients that send full paths send absolute ones), bidi
 * embeddings, overrides or isolates (a name made to look like another type: format-characters.ts),
 * or more than MAX_FILE_NAME_LENGTH characters. Names that pass are still made safe by safeFileName
 * before they reach a key, and are kept as sent only for Content-Disposition.
 */
export function checkFileName(fileName: string): void {
  if (Array.from(fileName).length > MAX_FILE_NAME_LENGTH) {
    throw new InvalidFileName(`the file name must be at most ${MAX_FILE_NAME_LENGTH} characters`);
  }
  if (/[\u0000-\u001f\u007f-\u009f]/u.test(fileName)) throw new InvalidFileName('the file name contains control characters');
  if (fileName.split(/[\\/]/).includes('..')) throw new InvalidFileName('the file name contains a ".." path segment');
  if (!fileName.isWellFormed()) throw new InvalidFileName('the file name is not valid Unicode');
  if (hasBidiControls(fileName)) {
    throw new InvalidFileName('the file name contains bidirectional control characters (U+202A-U+202E, U+2066-U+2069), which can make it look like another type');
  }
}

/** The spec's "Supported File Types", by extension. */
export const ALLOWED_EXTENSIONS = ['jpg', 'jpeg', 'png', 'gif', 'heic', 'heif', 'pdf', 'doc', 'docx', 'xls', 'xlsx'] as const;
export type AllowedExtension = (typeof ALLOWED_EXTENSIONS)[number];

const IMAGE_EXTENSIONS: ReadonlySet<AllowedExtension> = new Set(['jpg', 'jpeg', 'png', 'gif', 'heic', 'heif']);

/**
 * The last segment of a client's file name: some clients (old IE, some SDKs) send the full
 * path, which would tell recipients the uploader's folders and user name.
 */
export function baseNameOf(fileName: string): string {
  return fileName.slice(Math.max(fileName.lastIndexOf('/'), fileName.lastIndexOf('\\')) + 1);
}

/** Lower-cased extension of a file name without the dot, or '' when it has none. */
export function extensionOf(fileName: string): string {
  const base = baseNameOf(fileName);
  const dot = base.lastIndexOf('.');
  return dot <= 0 || dot === base.length - 1 ? '' : base.slice(dot + 1).toLowerCase();
}

function isAllowed(extension: string): extension is AllowedExtension {
  return (ALLOWED_EXTENSIONS as readonly string[]).includes(extension);
}

/** The file's allowed extension; throws UnsupportedFileType for any other. */
export function allowedExtensionOf(fileName: string): AllowedExtension {
  const extension = extensionOf(fileName);
  if (!isAllowed(extension)) {
    throw new UnsupportedFileType(
      extension === ''
        ? `the file name has no extension; allowed: ${ALLOWED_EXTENSIONS.join(', ')}`
        : `.${extension} is not allowed; allowed: ${ALLOWED_EXTENSIONS.join(', ')}`,
    );
  }
  return extension;
}

/** Images are shown inline by recipients; documents are offered as downloads. */
export function isImageExtension(extension: AllowedExtension): boolean {
  return IMAGE_EXTENSIONS.has(extension);
}
