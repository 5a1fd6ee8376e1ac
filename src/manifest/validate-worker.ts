/**
 * A worker thread of `validatePacks` (validate-many.ts): takes batches of targets from the
 * shared counter, checks them, and sends back what it found, by target index.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { checkShare, sendable, type WorkerInput } from './validate-many.js';

const input = workerData as WorkerInput;
const outcomes = await checkShare(input.targets, input.options, new Int32Array(input.counter));
parentPort!.postMessage(sendable(outcomes));
