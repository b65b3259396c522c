/**
 * The preset dictionary of compressed bodies (docs/wire-format.md): the words a version-4 body
 * repeats (envelope, field names, event types, vital names and ratings), which the compressor
 * starts from, so that even a body of one event compresses. A collector inflates a body with it.
 *
 * Never edit it: a body names its dictionary by checksum (the zlib DICTID, Adler-32 of these
 * bytes), and collectors read bodies by it. A better one is a new constant, added beside this one.
 */
export const DICTIONARY =
  '{"v":4,"site":"","sentAt":17,"ids":"","common":{"anonymousId":"","sessionId":"","userId":"",' +
  '"url":"https://","type":"event"},"events":[{"id":"","ago":,"type":"pageview","title":"",' +
  '"referrer":"https://","attribution":{}},{"id":"","ago":,"type":"error","message":"Uncaught ",' +
  '"errorType":"","filename":"","lineno":,"colno":,"stack":""},{"id":"","ago":,"type":"vital",' +
  '"metricName":"LCP","metricName":"CLS","metricName":"INP","metricName":"FCP","metricName":"TTFB",' +
  '"metricValue":,"rating":"good","rating":"needs-improvement","navigationType":"reload",' +
  '"metricId":"v5-17"},{"id":"","ago":,"type":"engagement","engagementTime":,"scrollDepth":100,' +
  '"interactionCount":0,"pageviewId":""},{"id":"","ago":,"name":"","properties":{"}}]}';
