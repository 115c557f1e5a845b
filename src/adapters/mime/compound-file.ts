/**
 * Reads the directory of a Compound File Binary (CFB, "OLE2") container from its leading bytes
 * alone, as [MS-CFB] lays it out: a 512-byte header, then sectors of 512 (version 3) or 4,096
 * (version 4) bytes; sector n starts at (n + 1) × sector size. The directory is a chain of
 * sectors, linked through the FAT, whose own sectors the header lists (the first 109, all a
 * head can need). Writers put the directory where they like: Microsoft Office in the first
 * sectors, the SheetJS `cfb` package (xlsx-populate, officecrypto-tool) after the FAT,
 * LibreOffice at the very end. So a head may hold it all, or not.
 */

const SIGNATURE = [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1];
const HEADER_BYTES = 512;
const HEADER_DIFAT_ENTRIES = 109;
const DIRECTORY_ENTRY_BYTES = 128;
/** Sector ids at and above this are markers ([MS-CFB] 2.1): ENDOFCHAIN ends a chain. */
const MAX_REGULAR_SECTOR = 0xfffffffa;
const END_OF_CHAIN = 0xfffffffe;

export type CompoundFileEntryType = 'storage' | 'stream' | 'root';

export interface CompoundFileEntry {
  readonly name: string;
  readonly type: CompoundFileEntryType;
}

export type CompoundFileDirectory =
  /** Every entry of the directory (unallocated ones left out). */
  | { readonly outcome: 'read'; readonly entries: readonly CompoundFileEntry[] }
  /** Well-formed so far, but a sector the directory needs lies past the head. */
  | { readonly outcome: 'beyond head'; readonly sectorSize: number }
  /** Not a compound file a reader could open; `reason` says what is wrong. */
  | { readonly outcome: 'malformed'; readonly reason: string };

const ENTRY_TYPES: Readonly<Record<number, CompoundFileEntryType>> = { 1: 'storage', 2: 'stream', 5: 'root' };

class BeyondHead extends Error {}
class Malformed extends Error {}

export function isCompoundFile(head: Uint8Array): boolean {
  return head.length >= SIGNATURE.length && SIGNATURE.every((byte, i) => head[i] === byte);
}

/** The directory of the compound file that `head` starts, as far as `head` reaches. */
export function readCompoundFileDirectory(head: Uint8Array): CompoundFileDirectory {
  if (!isCompoundFile(head)) return { outcome: 'malformed', reason: 'no compound file signature' };
  if (head.length < HEADER_BYTES) return { outcome: 'malformed', reason: 'the header is cut short' };
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const u16 = (at: number) => view.getUint16(at, true);
  const u32 = (at: number) => view.getUint32(at, true);

  const majorVersion = u16(26);
  const sectorShift = u16(30);
  if (u16(28) !== 0xfffe) return { outcome: 'malformed', reason: 'the byte order mark is not 0xFFFE' };
  if (!((majorVersion === 3 && sectorShift === 9) || (majorVersion === 4 && sectorShift === 12))) {
    return { outcome: 'malformed', reason: `version ${majorVersion} with sector shift ${sectorShift}` };
  }
  const sectorSize = 1 << sectorShift;
  const idsPerSector = sectorSize / 4;
  const fatSectorCount = u32(44);

  const sectorStart = (sector: number): number => {
    if (sector >= MAX_REGULAR_SECTOR) throw new Malformed(`sector id 0x${sector.toString(16)} where a sector was expected`);
    const start = (sector + 1) * sectorSize;
    if (start + sectorSize > head.length) throw new BeyondHead();
    return start;
  };

  /**
   * The sector holding the FAT's `index`-th sector, from the 109 the header lists. Later FAT
   * sectors, listed in DIFAT sectors, describe sectors from 109 × 128 on (7 MB into a file of
   * 512-byte sectors): beyond any head this reads, so it never needs them.
   */
  const fatSector = (index: number): number => {
    if (index >= fatSectorCount) throw new Malformed('a chain leads past the FAT');
    if (index >= HEADER_DIFAT_ENTRIES) throw new BeyondHead();
    return u32(76 + 4 * index);
  };

  const nextInChain = (sector: number): number =>
    u32(sectorStart(fatSector(Math.floor(sector / idsPerSector))) + 4 * (sector % idsPerSector));

  try {
    const entries: CompoundFileEntry[] = [];
    const visited = new Set<number>();
    for (let sector = u32(48); sector !== END_OF_CHAIN; sector = nextInChain(sector)) {
      if (visited.has(sector)) throw new Malformed('the directory chain loops');
      visited.add(sector);
      const start = sectorStart(sector);
      for (let at = start; at < start + sectorSize; at += DIRECTORY_ENTRY_BYTES) {
        const entry = entryAt(head, view, at);
        if (entry) entries.push(entry);
      }
    }
    if (entries[0]?.type !== 'root') throw new Malformed('the first directory entry is not the root');
    return { outcome: 'read', entries };
  } catch (error) {
    if (error instanceof BeyondHead) return { outcome: 'beyond head', sectorSize };
    if (error instanceof Malformed) return { outcome: 'malformed', reason: error.message };
    throw error;
  }
}

/** A directory entry ([MS-CFB] 2.6.1): a UTF-16LE name of up to 31 letters, its length in bytes with the NUL at 64, its type at 66. */
function entryAt(head: Uint8Array, view: DataView, at: number): CompoundFileEntry | undefined {
  const type = ENTRY_TYPES[view.getUint8(at + 66)];
  if (type === undefined) return undefined;
  const nameBytes = view.getUint16(at + 64, true);
  if (nameBytes < 2 || nameBytes > 64 || nameBytes % 2 !== 0) throw new Malformed(`a directory entry's name is ${nameBytes} bytes long`);
  return { name: new TextDecoder('utf-16le').decode(head.subarray(at, at + nameBytes - 2)), type };
}
