import { describe, expect, it } from 'vitest';
import { Unauthorized } from '../../src/domain/errors.ts';
import { allowedExtensionOf, baseNameOf, checkFileName, extensionOf } from '../../src/domain/file-types.ts';
import { InvalidFileName } from '../../src/domain/errors.ts';
import { folderFor, parseSessionId } from '../../src/domain/folder-policy.ts';
import { isAttachmentKey, MAX_SAFE_NAME_LENGTH, objectKeyFor, provisionalKeyFor, safeFileName } from '../../src/domain/object-key.ts';
import { principalFrom } from '../../src/domain/principal.ts';

describe('safeFileName', () => {
  it.each([
    ['photo.jpg', 'photo.jpg'],
    ['My Photo (1).JPG', 'My_Photo_1.jpg'],
    ['../../etc/passwd.pdf', 'passwd.pdf'],
    ['C:\\Users\\me\\scan.pdf', 'scan.pdf'],
    ['a\u0000b\u0007c.png', 'a_b_c.png'],
    ['%2e%2e%2f.png', '2e_2e_2f.png'],
    ['Фото отпуска.heic', 'Фото_отпуска.heic'],
    ['写真.jpeg', '写真.jpeg'],
    ['e\u0301te\u0301.gif', 'été.gif'],
    ['...hidden.docx', 'hidden.docx'],
    ['#?&.xlsx', 'file.xlsx'],
    ['noext', 'noext'],
  ])('%j → %j', (input, expected) => {
    expect(safeFileName(input)).toBe(expected);
  });

  it('bounds the length, keeping the extension and whole characters', () => {
    const name = safeFileName(`${'😀'.repeat(300)}.pdf`);
    expect(Array.from(name).length).toBeLessThanOrEqual(MAX_SAFE_NAME_LENGTH);
    expect(name.endsWith('.pdf')).toBe(true);
    expect(name.isWellFormed()).toBe(true);
  });
});

describe('safeFileName keeps keys safe', () => {
  it.each(['a\u0000.jpg', 'a\r\nb.jpg', 'x/../../y.jpg', 'a\\b.jpg', 'a:b*c?"<>|.jpg', 'a%2F..%5Cb.jpg', ' .jpg', '\u202Egpj.jpg'])(
    '%j has no separator, control or reserved character',
    (input) => {
      expect(safeFileName(input)).toMatch(/^[\p{L}\p{M}\p{N}._-]+$/u);
      expect(safeFileName(input)).not.toContain('..');
    },
  );

  it('bounds the name to 100 UTF-8 bytes, so local-disk temp names stay under 255 bytes', () => {
    const name = safeFileName(`${'名'.repeat(200)}.xlsx`);
    expect(new TextEncoder().encode(name).length).toBeLessThanOrEqual(MAX_SAFE_NAME_LENGTH);
    expect(name.endsWith('.xlsx')).toBe(true);
  });
});

describe('checkFileName', () => {
  it.each(['a\u0000.jpg', 'a\u001b.jpg', 'a\u0085.jpg', '../a.jpg', 'x\\..\\a.jpg', `${'a'.repeat(252)}.jpg`, 'a\ud800.jpg'])('refuses %j', (name) => {
    expect(() => checkFileName(name)).toThrow(InvalidFileName);
  });
  it.each(['photo.jpg', 'C:\\Users\\me\\photo.jpg', '..photo.jpg', `${'a'.repeat(251)}.jpg`, 'Фото 😀.jpg'])('accepts %j', (name) => {
    expect(() => checkFileName(name)).not.toThrow();
  });
  it('keeps only the last path segment', () => {
    expect(baseNameOf('C:\\Users\\me\\photo.jpg')).toBe('photo.jpg');
    expect(baseNameOf('dir/photo.jpg')).toBe('photo.jpg');
  });
});

describe('file types', () => {
  it('reads extensions case-insensitively from the last dot', () => {
    expect(extensionOf('a.b.JPG')).toBe('jpg');
    expect(extensionOf('.jpg')).toBe('');
    expect(extensionOf('a.')).toBe('');
    expect(allowedExtensionOf('X.DocX')).toBe('docx');
  });
});

describe('folder policy', () => {
  it('lets a session win over the principal’s own folder', () => {
    expect(folderFor({ kind: 'store', id: '1' }, 's1')).toBe('chat/session-s1/');
  });
  it('never lets a principal id escape its folder', () => {
    expect(folderFor({ kind: 'store', id: '../x' }, undefined)).toBe('chat/general/');
  });
  it('treats "not sent" and "sent empty" differently', () => {
    expect(parseSessionId(undefined)).toBeUndefined();
    expect(() => parseSessionId('')).toThrow();
  });
});

describe('principalFrom', () => {
  it('accepts admin and store roles in any case and stringifies ids', () => {
    expect(principalFrom({ role: 'Store', id: 42 })).toEqual({ kind: 'store', id: '42' });
    expect(principalFrom({ role: 'admin', id: null })).toEqual({ kind: 'admin' });
  });
  it.each(['customer', 'superadmin', ''])('refuses role %j', (role) => {
    expect(() => principalFrom({ role })).toThrow(Unauthorized);
  });
});

describe('keys', () => {
  it('puts an attachment under its folder and a waiting file under incoming/, with the same upload id and safe name', () => {
    expect(objectKeyFor('chat/session-1/', 'u1', 'My photo.JPG')).toBe('chat/session-1/u1-My_photo.jpg');
    expect(provisionalKeyFor('u1', 'My photo.JPG')).toBe('incoming/u1-My_photo.jpg');
  });

  it('tells attachments from waiting files', () => {
    expect(isAttachmentKey(objectKeyFor('chat/general/', 'u1', 'a.pdf'))).toBe(true);
    expect(isAttachmentKey(provisionalKeyFor('u1', 'a.pdf'))).toBe(false);
  });

  it('counts UTF-8 bytes, not characters, when cutting a long name', () => {
    // 3-byte and 4-byte characters: the stem is cut so the whole name fits MAX_SAFE_NAME_LENGTH bytes.
    for (const char of ['界', '𠀀', 'é', 'a']) {
      const name = safeFileName(`${char.repeat(200)}.pdf`);
      expect(new TextEncoder().encode(name).length).toBeLessThanOrEqual(MAX_SAFE_NAME_LENGTH);
      expect(new TextEncoder().encode(name).length).toBeGreaterThan(MAX_SAFE_NAME_LENGTH - 4 - 4);
      expect(name.endsWith('.pdf')).toBe(true);
    }
  });
});
