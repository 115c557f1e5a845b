import { UnsupportedFileType } from './errors.ts';

/** The spec's "Supported File Types", by extension. */
export const ALLOWED_EXTENSIONS = ['jpg', 'jpeg', 'png', 'gif', 'heic', 'heif', 'pdf', 'doc', 'docx', 'xls', 'xlsx'] as const;
export type AllowedExtension = (typeof ALLOWED_EXTENSIONS)[number];

const IMAGE_EXTENSIONS: ReadonlySet<AllowedExtension> = new Set(['jpg', 'jpeg', 'png', 'gif', 'heic', 'heif']);

/** Lower-cased extension of a file name without the dot, or '' when it has none. */
export function extensionOf(fileName: string): string {
  const base = fileName.slice(Math.max(fileName.lastIndexOf('/'), fileName.lastIndexOf('\\')) + 1);
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
