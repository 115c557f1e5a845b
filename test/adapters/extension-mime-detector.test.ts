import { ExtensionMimeDetector } from '../../src/adapters/mime/extension-mime-detector.ts';
import { mimeDetectorContract } from '../contracts/mime-detector-contract.ts';

mimeDetectorContract('ExtensionMimeDetector', () => ({ detector: new ExtensionMimeDetector(), checksContent: false }));
