import type * as api from '../../src/index';

declare global {
  interface Window {
    tracklet: typeof api & { version: string; (...args: unknown[]): unknown };
  }
}
