/** Every destination module, by its config `type`. */
import { databuddy } from './databuddy';
import { datacue } from './datacue';
import { growlytics } from './growlytics';
import { tracardi } from './tracardi';
import { tracify } from './tracify';
import type { ConfigOf, Destination, DestinationType } from './types';
import { webhook } from './webhook';

/** Each config `type` with the module typed by that config: the one place a config meets its module. */
const BY_TYPE: { [K in DestinationType]: Destination<ConfigOf<K>> } = {
  databuddy,
  tracify,
  tracardi,
  growlytics,
  datacue,
  webhook,
};

/**
 * Destination modules by config `type`. A module is only ever called with a config of its own type
 * (the config schema is a union on `type`, and the worker and ingest look modules up by it).
 */
export const DESTINATIONS: Record<string, Destination> = BY_TYPE as Record<string, Destination>;
export type {
  ConfigOf,
  Destination,
  DestinationContext,
  DestinationType,
  HttpResult,
  Outcome,
} from './types';
