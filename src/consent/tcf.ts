/**
 * IAB TCF v2.2 as the consent source (`data-consent-source="tcf"` with `data-consent="required"`, or
 * `tcf()` on npm), through the CMP's `__tcfapi('addEventListener', 2, callback)`. Tracklet is a
 * first-party tool, not a vendor of the Global Vendor List: it reads the visitor's consent to the
 * purposes analytics needs, Purpose 1 (store and/or access information on a device: the ids in
 * localStorage) and Purpose 8 (measure content performance). Both consented → `consent(true)`;
 * a decision without them (`tcloaded` with a stored choice, or `useractioncomplete`) →
 * `consent(false)`. `gdprApplies: false` → granted. While the CMP shows its banner (`cmpuishown`)
 * the choice stays as it is.
 */
import type { Capture } from '../core/contract';
import { log } from '../core/log';
import { safe } from '../core/safe';

/** The purposes Tracklet needs consent for. */
export const PURPOSES = [1, 8];

/** The part of a TC data object Tracklet reads (TCF v2.2 CMP API). */
export interface TCData {
  gdprApplies?: boolean;
  eventStatus?: 'tcloaded' | 'cmpuishown' | 'useractioncomplete';
  listenerId?: number;
  purpose?: { consents?: Record<string, boolean> };
}

type TcfApi = (
  command: string,
  version: number,
  callback: (data: TCData, success: boolean) => void,
  parameter?: unknown,
) => void;

/** The choice a TC data object states: true, false, or undefined while none is made. */
export const tcfChoice = (data: TCData | null | undefined): boolean | undefined => {
  if (!data) return;
  if (data.gdprApplies === false) return true;
  if (data.eventStatus != 'tcloaded' && data.eventStatus != 'useractioncomplete') return;
  return PURPOSES.every((purpose) => data.purpose?.consents?.[purpose] === true);
};

/**
 * The capture: listens to the CMP (waiting for `__tcfapi` up to 10 s when the CMP loads after
 * Tracklet) and calls `consent()` when the choice changes.
 */
export const tcf =
  (): Capture =>
  ({ consent }) => {
    if (!consent) return;
    const global = window as unknown as { __tcfapi?: TcfApi };
    let last: boolean | undefined;
    let listener: number | undefined;
    let stopped = false;
    let tries = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const onData = safe((data: TCData, success: boolean) => {
      if (!success || stopped) return;
      if (data?.listenerId != null) listener = data.listenerId;
      const granted = tcfChoice(data);
      if (granted === undefined || granted === last) return;
      last = granted;
      if (DEBUG) log('TCF:', data.eventStatus, granted);
      consent(granted);
    });
    const listen = safe(() => {
      if (stopped) return;
      if (typeof global.__tcfapi == 'function')
        global.__tcfapi('addEventListener', 2, onData as never);
      else if (tries++ < 50) timer = setTimeout(listen, 200);
    });
    listen();
    return () => {
      stopped = true;
      clearTimeout(timer);
      if (listener != null)
        safe(() => global.__tcfapi?.('removeEventListener', 2, () => {}, listener))();
    };
  };
