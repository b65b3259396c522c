/** Every destination module, by its config `type`. */
import { databuddy } from './databuddy';
import { datacue } from './datacue';
import { growlytics } from './growlytics';
import { tracardi } from './tracardi';
import { tracify } from './tracify';
import type { Destination } from './types';
import { webhook } from './webhook';

/** Destination modules by config `type`. */
export const DESTINATIONS: Record<string, Destination> = { databuddy, tracify, tracardi, growlytics, datacue, webhook };
export type { Destination, DestinationContext, HttpResult, Outcome } from './types';
