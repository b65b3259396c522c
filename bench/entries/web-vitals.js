// The floor for vitals: web-vitals alone, each metric sent with sendBeacon as it is reported.
import { onCLS, onFCP, onINP, onLCP, onTTFB } from 'web-vitals';

const send = (metric) =>
  navigator.sendBeacon(
    location.origin + '/vitals',
    JSON.stringify({ name: metric.name, value: metric.value, id: metric.id }),
  );
for (const on of [onCLS, onFCP, onINP, onLCP, onTTFB]) on(send);

if (BENCH) window.bench = {};
