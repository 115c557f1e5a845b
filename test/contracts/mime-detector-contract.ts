import { describe, expect, it } from 'vitest';
import type { MimeDetector } from '../../src/application/ports/mime-detector.ts';
import { UnsupportedFileType } from '../../src/domain/errors.ts';
import { ALLOWED_EXTENSIONS, type AllowedExtension } from '../../src/domain/file-types.ts';
import { MIME_TYPE_OF, oneRealFilePerExtension, readRealFile } from '../support/fixtures.ts';

export interface MimeDetectorUnderTest {
  readonly detector: MimeDetector;
  /**
   * True when the detector looks at the content and refuses content that contradicts the
   * extension; false when the name alone decides (then any content gets the extension's type).
   */
  readonly checksContent: boolean;
}

/** The head a caller hands `detect`: the first headBytesFor(extension) bytes, fewer when the file is shorter. */
function headOf(detector: MimeDetector, extension: AllowedExtension, content: Buffer): Buffer {
  return content.subarray(0, detector.headBytesFor(extension));
}

const HTML_PAGE = Buffer.from('<!doctype html><html><body><script>alert(document.cookie)</script></body></html>');

/**
 * What every MimeDetector must do, whatever it looks at. Each detector's test file calls this
 * once, then adds its own extras.
 */
export function mimeDetectorContract(name: string, makeDetector: () => MimeDetectorUnderTest): void {
  describe(`${name} honours the MimeDetector contract`, () => {
    const { detector, checksContent } = makeDetector();
    const realFiles = oneRealFilePerExtension();

    it('has a real file for every allowed extension to check with', () => {
      expect([...realFiles.keys()].sort()).toEqual([...ALLOWED_EXTENSIONS].sort());
    });

    it('asks for a whole, non-negative number of head bytes for every allowed extension', () => {
      for (const extension of ALLOWED_EXTENSIONS) {
        const bytes = detector.headBytesFor(extension);
        expect(Number.isSafeInteger(bytes) && bytes >= 0, `.${extension}: ${bytes}`).toBe(true);
      }
    });

    describe("answers the extension's MIME type for real content of each allowed extension", () => {
      for (const extension of ALLOWED_EXTENSIONS) {
        it(`.${extension}`, async () => {
          const file = realFiles.get(extension)!;
          const head = headOf(detector, extension, await readRealFile(file));
          await expect(detector.detect(file.name, extension, head)).resolves.toBe(MIME_TYPE_OF[extension]);
        });
      }
    });

    it("answers the same for a name whose extension is upper case, or whose base is any Unicode", async () => {
      for (const [extension, file] of realFiles) {
        const head = headOf(detector, extension, await readRealFile(file));
        for (const fileName of [`PHOTO.${extension.toUpperCase()}`, `Отчёт 報告 🌴.${extension}`, `.${extension}.${extension}`]) {
          await expect(detector.detect(fileName, extension, head), fileName).resolves.toBe(MIME_TYPE_OF[extension]);
        }
      }
    });

    it('leaves the head as it was: those bytes are the start of the stored file', async () => {
      for (const [extension, file] of realFiles) {
        const head = Buffer.from(headOf(detector, extension, await readRealFile(file)));
        const copy = Buffer.from(head);
        await detector.detect(file.name, extension, head);
        expect(head.equals(copy), `.${extension}`).toBe(true);
      }
    });

    it('answers many files at once as it answers them one by one', async () => {
      const cases = await Promise.all(
        [...realFiles].map(async ([extension, file]) => ({ extension, file, head: headOf(detector, extension, await readRealFile(file)) })),
      );
      const answers = await Promise.all(cases.flatMap((c) => [1, 2, 3].map(() => detector.detect(c.file.name, c.extension, c.head))));
      expect(answers).toEqual(cases.flatMap((c) => [1, 2, 3].map(() => MIME_TYPE_OF[c.extension])));
    });

    if (checksContent) {
      it('refuses content that contradicts the extension with UnsupportedFileType and a detail', async () => {
        const png = await readRealFile(realFiles.get('png')!);
        const pdf = await readRealFile(realFiles.get('pdf')!);
        const contradictions: Array<[AllowedExtension, Buffer]> = [
          ['jpg', HTML_PAGE],
          ['png', pdf],
          ['pdf', png],
          ['docx', HTML_PAGE],
          ['doc', png],
        ];
        for (const [extension, content] of contradictions) {
          const refusal = detector.detect(`file.${extension}`, extension, headOf(detector, extension, content));
          await expect(refusal, `.${extension}`).rejects.toBeInstanceOf(UnsupportedFileType);
          await expect(refusal, `.${extension}`).rejects.toMatchObject({ detail: expect.stringMatching(/\S/) });
        }
      });

      it('refuses an empty file with UnsupportedFileType and a detail', async () => {
        for (const extension of ALLOWED_EXTENSIONS) {
          await expect(detector.detect(`empty.${extension}`, extension, Buffer.alloc(0))).rejects.toMatchObject({
            code: 'UNSUPPORTED_FILE_TYPE',
            detail: expect.stringMatching(/\S/),
          });
        }
      });
    } else {
      it('lets the name decide: contradicting content still gets the extension\'s type', async () => {
        for (const extension of ALLOWED_EXTENSIONS) {
          await expect(detector.detect(`file.${extension}`, extension, headOf(detector, extension, HTML_PAGE))).resolves.toBe(MIME_TYPE_OF[extension]);
        }
      });
    }
  });
}
