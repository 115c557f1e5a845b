import { readdir, readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { ContentMimeDetector } from '../../src/adapters/mime/content-mime-detector.ts';
import { UnsupportedFileType } from '../../src/domain/errors.ts';
import { ALLOWED_EXTENSIONS, type AllowedExtension } from '../../src/domain/file-types.ts';
import { mimeDetectorContract } from '../contracts/mime-detector-contract.ts';
import { ole2Head } from '../support/file-heads.ts';
import { FIXTURES_DIR, MIME_TYPE_OF, readRealFile, REAL_FILES, upperCaseNameOf, type RealFile } from '../support/fixtures.ts';
import { seededRandom, testSeed } from '../support/seeded-random.ts';

mimeDetectorContract('ContentMimeDetector', () => ({ detector: new ContentMimeDetector(), checksContent: true }));

const detector = new ContentMimeDetector();
const fixture = (name: string): RealFile => REAL_FILES.find((file) => file.name === name) ?? expect.unreachable(`no fixture ${name}`);

/** What the detector answers for `content` uploaded as `fileName`, given the head a caller would hand it. */
async function detect(fileName: string, content: Buffer, extension = fileName.slice(fileName.lastIndexOf('.') + 1).toLowerCase() as AllowedExtension) {
  return detector.detect(fileName, extension, content.subarray(0, detector.headBytesFor(extension)));
}

async function expectRefused(fileName: string, content: Buffer, detail: RegExp) {
  const refusal = detect(fileName, content);
  await expect(refusal).rejects.toBeInstanceOf(UnsupportedFileType);
  await expect(refusal).rejects.toMatchObject({ detail: expect.stringMatching(detail) });
}

describe('ContentMimeDetector and files made by real programs', () => {
  it('the fixture list, the folder and its README name the same files', async () => {
    const allowed = new RegExp(`\\.(${ALLOWED_EXTENSIONS.join('|')})$`);
    const inFolder = (await readdir(FIXTURES_DIR)).filter((name) => allowed.test(name)).sort();
    expect(REAL_FILES.map((file) => file.name).sort()).toEqual(inFolder);
    const readme = await readFile(`${FIXTURES_DIR}README.md`, 'utf8');
    for (const name of inFolder) expect(readme, name).toContain(`\`${name}\`:`);
  });

  it('covers every allowed extension', () => {
    expect(new Set(REAL_FILES.map((file) => file.extension))).toEqual(new Set(ALLOWED_EXTENSIONS));
  });

  describe.each(REAL_FILES)('$name ($producer)', (file) => {
    it(`is ${file.mimeType}, under its name and upper-cased`, async () => {
      const content = await readRealFile(file);
      expect(await detect(file.name, content)).toBe(file.mimeType);
      expect(await detect(upperCaseNameOf(file), content)).toBe(file.mimeType);
    });
  });
});

describe('ContentMimeDetector: head sizes', () => {
  it("asks for file-type's 4,100 bytes for images and PDF, 64 KiB for office documents", () => {
    const sizes = Object.fromEntries(ALLOWED_EXTENSIONS.map((extension) => [extension, detector.headBytesFor(extension)]));
    expect(sizes).toEqual({ jpg: 4100, jpeg: 4100, png: 4100, gif: 4100, heic: 4100, heif: 4100, pdf: 4100, doc: 65536, xls: 65536, docx: 65536, xlsx: 65536 });
  });
});

const PASSWORD_PROTECTED = REAL_FILES.filter((file) => file.name.includes('-password.'));

describe('ContentMimeDetector: password-protected DOCX and XLSX (a CFB holding EncryptionInfo and EncryptedPackage)', () => {
  it.each(PASSWORD_PROTECTED)('accepts $name as .docx and as .xlsx, typed by the extension', async (file) => {
    const content = await readRealFile(file);
    expect(await detect('protected.docx', content)).toBe(MIME_TYPE_OF.docx);
    expect(await detect('protected.xlsx', content)).toBe(MIME_TYPE_OF.xlsx);
  });

  it.each([
    ['doc-libreoffice.doc', 'report.docx'],
    ['xls-libreoffice.xls', 'sheet.xlsx'],
  ])('refuses the plain compound file %s named %s', async (name, fileName) => {
    await expectRefused(fileName, await readRealFile(fixture(name)), /CFB without an encrypted package/);
  });

  it('refuses a compound file whose header no reader would open (zero sector size)', async () => {
    await expectRefused('sheet.xlsx', Buffer.concat([ole2Head(), Buffer.alloc(2000)]), /malformed CFB/);
  });

  it('refuses a compound file whose directory chain loops, without hanging', async () => {
    const content = Buffer.from(await readRealFile(fixture('docx-officecrypto-tool-password.docx')));
    const directorySector = content.readUInt32LE(48);
    const firstFatSector = content.readUInt32LE(76);
    content.writeUInt32LE(directorySector, (firstFatSector + 1) * 512 + 4 * directorySector);
    await expectRefused('protected.docx', content, /malformed CFB \(the directory chain loops\)/);
  });

  /**
   * The detector sees only the head: a file's first N bytes stand for any longer file that
   * starts with them. LibreOffice writes the directory last, so in its files over 64 KiB the
   * head ends before the directory, as these cut heads do.
   */
  describe('when the directory lies past the head', () => {
    const cutTo = (content: Buffer, bytes: number) => content.subarray(0, bytes);

    it("accepts LibreOffice's files by the EncryptionInfo it writes before the package", async () => {
      for (const name of ['docx-libreoffice-password.docx', 'xlsx-libreoffice-password.xlsx']) {
        const head = cutTo(await readRealFile(fixture(name)), 4096);
        expect(await detector.detect(name, fixture(name).extension, head), name).toBe(fixture(name).mimeType);
      }
    });

    it('refuses a .doc cut before its directory: no encryption header in the head', async () => {
      const head = cutTo(await readRealFile(fixture('doc-libreoffice.doc')), 8192);
      await expect(detector.detect('report.docx', 'docx', head)).rejects.toMatchObject({ detail: expect.stringMatching(/directory lies past the first 8192 bytes/) });
    });

    it('refuses a SheetJS-cfb file (xlsx-populate) whose directory and EncryptionInfo are both past the head: the documented limit', async () => {
      const head = cutTo(await readRealFile(fixture('xlsx-xlsx-populate-password.xlsx')), 1024);
      await expect(detector.detect('protected.xlsx', 'xlsx', head)).rejects.toBeInstanceOf(UnsupportedFileType);
    });
  });

  it('reads version 4 compound files (4,096-byte sectors) too', async () => {
    expect(await detect('protected.docx', compoundFileV4(['EncryptionInfo', 'EncryptedPackage']))).toBe(MIME_TYPE_OF.docx);
    await expectRefused('plain.docx', compoundFileV4(['WordDocument', '1Table']), /without an encrypted package/);
  });
});

describe('ContentMimeDetector: .doc and .xls by their CFB directory', () => {
  it.each([
    ['xls-libreoffice.xls', 'report.doc', /without a WordDocument stream/],
    ['docx-libreoffice-password.docx', 'report.doc', /without a WordDocument stream/],
    ['doc-libreoffice.doc', 'sheet.xls', /without a Workbook stream/],
    ['xlsx-xlsx-populate-password.xlsx', 'sheet.xls', /without a Workbook stream/],
  ])('refuses %s named %s', async (name, fileName, detail) => {
    await expectRefused(fileName, await readRealFile(fixture(name)), detail);
  });

  it('accepts Excel 5/95\'s Book stream as .xls', async () => {
    expect(await detect('old.xls', compoundFileV4(['Book']))).toBe(MIME_TYPE_OF.xls);
  });

  it('passes a compound file whose directory is past the head on its container, as Word and Excel files over 64 KiB are', async () => {
    const head = (await readRealFile(fixture('xls-libreoffice.xls'))).subarray(0, 4096);
    expect(await detector.detect('report.doc', 'doc', head)).toBe(MIME_TYPE_OF.doc);
  });

  it("passes a header it cannot read on file-type's verdict, as before", async () => {
    expect(await detect('old.doc', Buffer.concat([ole2Head(), Buffer.alloc(2000)]))).toBe(MIME_TYPE_OF.doc);
  });
});

describe('ContentMimeDetector: AV1-coded HEIF', () => {
  const avif = () => readRealFile(fixture('heif-libheif-aom-avif.heif'));

  it('accepts it as .heif (brands avif, mif1, miaf)', async () => {
    expect(await detect('photo.heif', await avif())).toBe(MIME_TYPE_OF.heif);
  });

  it('refuses it as .heic, which names HEVC coding', async () => {
    await expectRefused('photo.heic', await avif(), /AVIF, not \.heic/);
  });

  it('refuses as .heif an AVIF that does not declare the HEIF brand mif1', async () => {
    const content = Buffer.from(await avif());
    const ftypEnd = content.readUInt32BE(0);
    for (let at = 16; at < ftypEnd; at += 4) content.write('avif', at, 'latin1');
    await expectRefused('photo.heif', content, /without the HEIF brand/);
  });
});

describe('ContentMimeDetector: damaged compound files', () => {
  it(`answers a MIME type or UnsupportedFileType, nothing else, for 300 corruptions of real CFB heads (seed ${testSeed()})`, async () => {
    const random = seededRandom(testSeed());
    const originals = await Promise.all(REAL_FILES.filter((file) => ['doc', 'xls'].includes(file.extension) || file.name.includes('-password.')).map(readRealFile));
    for (let round = 0; round < 300; round++) {
      const content = Buffer.from(originals[round % originals.length]!);
      // Corrupt the fields a reader follows: the header, the first FAT sector and the early sectors.
      for (let flips = 1 + Math.floor(random() * 8); flips > 0; flips--) {
        content[8 + Math.floor(random() * Math.min(content.length - 8, 2048))] = Math.floor(random() * 256);
      }
      for (const fileName of ['a.doc', 'a.xls', 'a.docx', 'a.xlsx']) {
        await detect(fileName, content).catch((error: unknown) => {
          expect(error, `round ${round}, ${fileName}`).toBeInstanceOf(UnsupportedFileType);
        });
      }
    }
  });
});

/**
 * A minimal version 4 compound file ([MS-CFB] 2.2): the header in a 4,096-byte sector, the FAT
 * in sector 0, the directory (the root, then one empty stream per name) in sector 1. No producer
 * at hand writes version 4, so this is built by hand.
 */
function compoundFileV4(streamNames: readonly string[]): Buffer {
  const SECTOR = 4096;
  const file = Buffer.alloc(3 * SECTOR);
  Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]).copy(file, 0);
  file.writeUInt16LE(0x3e, 24); // minor version
  file.writeUInt16LE(4, 26); // major version
  file.writeUInt16LE(0xfffe, 28); // byte order
  file.writeUInt16LE(12, 30); // sector shift
  file.writeUInt16LE(6, 32); // mini sector shift
  file.writeUInt32LE(1, 40); // directory sectors
  file.writeUInt32LE(1, 44); // FAT sectors
  file.writeUInt32LE(1, 48); // first directory sector
  file.writeUInt32LE(4096, 56); // mini stream cutoff
  file.writeUInt32LE(0xfffffffe, 60); // no mini FAT
  file.writeUInt32LE(0xfffffffe, 68); // no DIFAT sectors
  file.fill(0xff, 76, 512);
  file.writeUInt32LE(0, 76); // the FAT is sector 0
  const fat = SECTOR;
  file.fill(0xff, fat, fat + SECTOR);
  file.writeUInt32LE(0xfffffffd, fat); // sector 0: FAT
  file.writeUInt32LE(0xfffffffe, fat + 4); // sector 1: the directory, one sector long
  const directory = 2 * SECTOR;
  ['Root Entry', ...streamNames].forEach((name, index) => {
    const at = directory + index * 128;
    file.write(name, at, 'utf16le');
    file.writeUInt16LE((name.length + 1) * 2, at + 64);
    file.writeUInt8(index === 0 ? 5 : 2, at + 66);
    file.writeUInt32LE(0xfffffffe, at + 116); // starting sector: none
  });
  return file;
}
