import { describe, expect, it } from 'vitest';
import { joinableWithinS3, partCopiesOf } from '../../src/adapters/object-store/s3/s3-concatenation.ts';
import type { ObjectKey } from '../../src/domain/object-key.ts';

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;
const part = (name: string, size: number) => ({ key: `staged/${name}` as ObjectKey, size });

/** How S3 joins a resumable upload's parts: which it can join itself, and the copies it asks for (sizes no test can store). */
describe('S3 concatenation', () => {
  it('joins parts itself only when every part but the last has 5 MiB', () => {
    expect(joinableWithinS3([part('a', 5 * MIB), part('b', 1)])).toBe(true);
    expect(joinableWithinS3([part('a', 5 * MIB - 1), part('b', 5 * MIB)])).toBe(false);
    expect(joinableWithinS3([part('a', 1)])).toBe(true);
    expect(joinableWithinS3([])).toBe(false);
  });

  it('copies a part up to 5 GiB whole, a larger one in ranges of 512 MiB whose last is never under 5 MiB', () => {
    expect(partCopiesOf([part('a', 8 * MIB), part('b', 5 * GIB)])).toEqual([{ key: 'staged/a' }, { key: 'staged/b' }]);
    const ranges = partCopiesOf([part('big', 5 * GIB + 1), part('last', 10)]);
    expect(ranges).toHaveLength(11);
    expect(ranges[0]).toEqual({ key: 'staged/big', range: `bytes=0-${512 * MIB - 1}` });
    // 10 ranges of 512 MiB would leave 1 byte: the last range takes it.
    expect(ranges[9]).toEqual({ key: 'staged/big', range: `bytes=${9 * 512 * MIB}-${5 * GIB}` });
    expect(ranges[10]).toEqual({ key: 'staged/last' });
    const covered = ranges.slice(0, 10).reduce((sum, { range }) => {
      const [first, last] = range!.slice('bytes='.length).split('-').map(Number);
      return sum + last! - first! + 1;
    }, 0);
    expect(covered).toBe(5 * GIB + 1);
  });
});
