import { InMemoryObjectStore } from '../../src/adapters/object-store/in-memory/in-memory-object-store.ts';
import { objectStoreContract } from '../contracts/object-store-contract.ts';

objectStoreContract('InMemoryObjectStore', async () => ({
  store: new InMemoryObjectStore({ publicBaseUrl: 'http://files.test/base' }),
}));
