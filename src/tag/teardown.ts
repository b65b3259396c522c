/**
 * The tests' `stop()` of a first-file tracker (TEARDOWN builds only: nothing here reaches the
 * builds). What undoes each part of a tracker is kept by its config object, which the tracker, its
 * batch and its outbox share.
 */
import type { Config } from '../core/contract';
import { safe } from './safe';

const undo = /* @__PURE__ */ new WeakMap<Config, (() => void)[]>();
const halted = /* @__PURE__ */ new WeakSet<Config>();

/** Keeps what undoes a part of the tracker of `config` (a capture's stop, a timer's clearing). */
export const onStop = (config: Config, stop: void | (() => void)): void => {
  if (!undo.has(config)) undo.set(config, []);
  if (stop) undo.get(config)!.push(stop);
};

/** Adds a window listener that the tracker's stop() removes. */
export const listen = (config: Config, type: string, listener: (event: any) => unknown): void => {
  addEventListener(type, listener);
  onStop(config, () => removeEventListener(type, listener));
};

/** Whether the tracker of `config` was stopped: it queues, stores and schedules nothing more. */
export const stopped = (config: Config): boolean => halted.has(config);

/** Stops the tracker of `config`: each part undone on its own (one whose stop throws leaves the others). */
export const stop = (config: Config): void => {
  halted.add(config);
  for (const undone of undo.get(config)?.splice(0) || []) safe(undone)();
};
