// The previewer the service uses (sharp loaded at its first image) honours the same contract as the
// one it loads; that a broken sharp stops the start is test/http/sharp-loading.test.ts's.
import { LazySharpImagePreviewer } from '../../src/adapters/image/lazy-sharp-previewer.ts';
import { imagePreviewerContract } from '../contracts/image-previewer-contract.ts';

imagePreviewerContract('LazySharpImagePreviewer', async (limits) => new LazySharpImagePreviewer({ ...limits, concurrency: 2 }));
