___TERMS_OF_SERVICE___

By creating or modifying this file you agree to Google Tag Manager's Community
Template Gallery Developer Terms of Service available at
https://developers.google.com/tag-manager/gallery-tos (or such other URL as
Google may provide), as modified from time to time.


___INFO___

{
  "type": "TAG",
  "id": "cvt_temp_public_id",
  "version": 1,
  "securityGroups": [],
  "displayName": "Tracklet",
  "categories": [
    "ANALYTICS",
    "ATTRIBUTION"
  ],
  "brand": {
    "id": "tracklet",
    "displayName": "Tracklet"
  },
  "description": "Loads Tracklet (pageviews, SPA navigation, Web Vitals, errors, engagement, campaign attribution) and configures it with tracklet('init', …), or sends a custom event with tracklet('track', …).",
  "containerContexts": [
    "WEB"
  ]
}


___TEMPLATE_PARAMETERS___

[
  {
    "type": "RADIO",
    "name": "tagType",
    "displayName": "What this tag does",
    "simpleValueType": true,
    "defaultValue": "init",
    "radioItems": [
      {
        "value": "init",
        "displayValue": "Load and configure Tracklet (fire once per page, e.g. on Initialization - All Pages)"
      },
      {
        "value": "track",
        "displayValue": "Send an event (track a name with properties)"
      }
    ]
  },
  {
    "type": "TEXT",
    "name": "scriptUrl",
    "displayName": "Script URL",
    "simpleValueType": true,
    "valueHint": "https://cdn.example.com/tracklet.js",
    "help": "Where the script tag build is served: https://…/tracklet.js. Its second file (tracklet.captures.js) is loaded from next to it.",
    "valueValidators": [
      {
        "type": "NON_EMPTY"
      },
      {
        "type": "REGEX",
        "args": [
          "^https://.+"
        ],
        "errorMessage": "An https:// URL of tracklet.js"
      }
    ],
    "enablingConditions": [
      {
        "paramName": "tagType",
        "paramValue": "init",
        "type": "EQUALS"
      }
    ]
  },
  {
    "type": "TEXT",
    "name": "endpoint",
    "displayName": "Endpoint",
    "simpleValueType": true,
    "valueHint": "https://relay.example.com/collect",
    "help": "The relay's collect URL (the endpoint option).",
    "valueValidators": [
      {
        "type": "NON_EMPTY"
      },
      {
        "type": "REGEX",
        "args": [
          "^https?://.+"
        ],
        "errorMessage": "The relay's collect URL (http or https)"
      }
    ],
    "enablingConditions": [
      {
        "paramName": "tagType",
        "paramValue": "init",
        "type": "EQUALS"
      }
    ]
  },
  {
    "type": "TEXT",
    "name": "site",
    "displayName": "Site",
    "simpleValueType": true,
    "valueHint": "shop",
    "help": "The site id the relay knows this site by (the site option).",
    "valueValidators": [
      {
        "type": "NON_EMPTY"
      }
    ],
    "enablingConditions": [
      {
        "paramName": "tagType",
        "paramValue": "init",
        "type": "EQUALS"
      }
    ]
  },
  {
    "type": "GROUP",
    "name": "optionsGroup",
    "displayName": "Options",
    "groupStyle": "ZIPPY_CLOSED",
    "enablingConditions": [
      {
        "paramName": "tagType",
        "paramValue": "init",
        "type": "EQUALS"
      }
    ],
    "subParams": [
      {
        "type": "CHECKBOX",
        "name": "autoPageview",
        "checkboxText": "Send a pageview when the script starts (autoPageview)",
        "simpleValueType": true,
        "defaultValue": true
      },
      {
        "type": "SELECT",
        "name": "spa",
        "displayName": "Pageviews on single-page navigation (spa)",
        "macrosInSelect": false,
        "selectItems": [
          {
            "value": "history",
            "displayValue": "history: pushState, replaceState, popstate"
          },
          {
            "value": "hash",
            "displayValue": "hash: also hashchange"
          },
          {
            "value": "off",
            "displayValue": "off"
          }
        ],
        "simpleValueType": true,
        "defaultValue": "history"
      },
      {
        "type": "SELECT",
        "name": "consent",
        "displayName": "Consent (consent)",
        "macrosInSelect": false,
        "selectItems": [
          {
            "value": "implied",
            "displayValue": "implied: track from the start"
          },
          {
            "value": "required",
            "displayValue": "required: store and send nothing until tracklet('consent', true)"
          }
        ],
        "simpleValueType": true,
        "defaultValue": "implied"
      },
      {
        "type": "SELECT",
        "name": "storage",
        "displayName": "Storage (storage)",
        "macrosInSelect": false,
        "selectItems": [
          {
            "value": "local",
            "displayValue": "local: ids kept in localStorage"
          },
          {
            "value": "none",
            "displayValue": "none: no storage, ids last for the page"
          }
        ],
        "simpleValueType": true,
        "defaultValue": "local"
      },
      {
        "type": "SELECT",
        "name": "privacySignals",
        "displayName": "Do Not Track and Global Privacy Control (privacySignals)",
        "macrosInSelect": false,
        "selectItems": [
          {
            "value": "respect",
            "displayValue": "respect: send nothing when the browser asks"
          },
          {
            "value": "ignore",
            "displayValue": "ignore"
          }
        ],
        "simpleValueType": true,
        "defaultValue": "respect"
      },
      {
        "type": "TEXT",
        "name": "sampleRate",
        "displayName": "Share of sessions tracked, 0–1 (sampleRate)",
        "simpleValueType": true,
        "valueHint": "1",
        "help": "Leave empty for every session.",
        "valueValidators": [
          {
            "type": "BETWEEN",
            "args": [
              0,
              1
            ]
          }
        ]
      },
      {
        "type": "TEXT",
        "name": "sessionTimeout",
        "displayName": "Session timeout in minutes, 1–1440 (sessionTimeout)",
        "simpleValueType": true,
        "valueHint": "30",
        "help": "Leave empty for 30.",
        "valueValidators": [
          {
            "type": "BETWEEN",
            "args": [
              1,
              1440
            ]
          }
        ]
      },
      {
        "type": "TEXT",
        "name": "flushInterval",
        "displayName": "Send queued events after this many milliseconds (flushInterval)",
        "simpleValueType": true,
        "valueHint": "5000",
        "help": "Leave empty for 5000; 0 sends only on batch size and page hide.",
        "valueValidators": [
          {
            "type": "BETWEEN",
            "args": [
              0,
              3600000
            ]
          }
        ]
      },
      {
        "type": "TEXT",
        "name": "exclude",
        "displayName": "Paths never tracked (exclude)",
        "simpleValueType": true,
        "valueHint": "/admin/*, /checkout/success",
        "help": "Comma-separated; * matches anything, a trailing /* the path itself too."
      },
      {
        "type": "CHECKBOX",
        "name": "vitals",
        "checkboxText": "Core Web Vitals (vitals)",
        "simpleValueType": true,
        "defaultValue": true
      },
      {
        "type": "CHECKBOX",
        "name": "errors",
        "checkboxText": "JavaScript errors (errors)",
        "simpleValueType": true,
        "defaultValue": true
      },
      {
        "type": "CHECKBOX",
        "name": "clicks",
        "checkboxText": "Clicks on data-tracklet-event elements (clicks)",
        "simpleValueType": true,
        "defaultValue": true
      },
      {
        "type": "CHECKBOX",
        "name": "engagement",
        "checkboxText": "Engagement time, scroll depth and interactions (engagement)",
        "simpleValueType": true,
        "defaultValue": true
      },
      {
        "type": "CHECKBOX",
        "name": "outbound",
        "checkboxText": "Clicks on links to other sites (outbound)",
        "simpleValueType": true,
        "defaultValue": false
      },
      {
        "type": "TEXT",
        "name": "downloads",
        "displayName": "File downloads (downloads)",
        "simpleValueType": true,
        "valueHint": "pdf,zip",
        "help": "true for the usual extensions, or a comma list such as pdf,zip. Leave empty for none."
      },
      {
        "type": "CHECKBOX",
        "name": "scrub",
        "checkboxText": "Mask e-mail addresses and sensitive URL parameters (scrub)",
        "simpleValueType": true,
        "defaultValue": true
      },
      {
        "type": "TEXT",
        "name": "scrubParams",
        "displayName": "More URL parameters to mask (scrubParams)",
        "simpleValueType": true,
        "valueHint": "ref_token, voucher",
        "help": "Comma-separated, on top of the defaults."
      },
      {
        "type": "CHECKBOX",
        "name": "includeLocal",
        "checkboxText": "Also track localhost and automated browsers (includeLocal)",
        "simpleValueType": true,
        "defaultValue": false
      },
      {
        "type": "CHECKBOX",
        "name": "debug",
        "checkboxText": "Log every step to the console (debug)",
        "simpleValueType": true,
        "defaultValue": false
      },
      {
        "type": "SIMPLE_TABLE",
        "name": "globalProperties",
        "displayName": "Properties added to every event (tracklet('set', …))",
        "simpleTableColumns": [
          {
            "defaultValue": "",
            "displayName": "Name",
            "name": "name",
            "type": "TEXT",
            "isUnique": true,
            "valueValidators": [
              {
                "type": "NON_EMPTY"
              }
            ]
          },
          {
            "defaultValue": "",
            "displayName": "Value",
            "name": "value",
            "type": "TEXT"
          }
        ]
      }
    ]
  },
  {
    "type": "TEXT",
    "name": "eventName",
    "displayName": "Event name",
    "simpleValueType": true,
    "valueHint": "add_to_cart",
    "help": "The name of the custom event (tracklet('track', name, properties)).",
    "valueValidators": [
      {
        "type": "NON_EMPTY"
      }
    ],
    "enablingConditions": [
      {
        "paramName": "tagType",
        "paramValue": "track",
        "type": "EQUALS"
      }
    ]
  },
  {
    "type": "SIMPLE_TABLE",
    "name": "eventProperties",
    "displayName": "Event properties",
    "enablingConditions": [
      {
        "paramName": "tagType",
        "paramValue": "track",
        "type": "EQUALS"
      }
    ],
    "simpleTableColumns": [
      {
        "defaultValue": "",
        "displayName": "Name",
        "name": "name",
        "type": "TEXT",
        "isUnique": true,
        "valueValidators": [
          {
            "type": "NON_EMPTY"
          }
        ]
      },
      {
        "defaultValue": "",
        "displayName": "Value",
        "name": "value",
        "type": "TEXT"
      }
    ]
  }
]


___SANDBOXED_JS_FOR_WEB_TEMPLATE___

// Tracklet for Google Tag Manager. One template, two kinds of tag: "Load and configure" queues
// tracklet('init', options) through the script's stub and injects the script tag build; "Send
// an event" calls tracklet('track', name, properties). Calls made before the script has loaded
// wait in tracklet.q, which the script replays when it starts.
const callInWindow = require('callInWindow');
const copyFromWindow = require('copyFromWindow');
const createArgumentsQueue = require('createArgumentsQueue');
const getType = require('getType');
const injectScript = require('injectScript');
const logToConsole = require('logToConsole');
const makeNumber = require('makeNumber');
const makeTableMap = require('makeTableMap');

const log = (message) => logToConsole('[tracklet] ' + message);

// Once the script has started, window.tracklet is its own function (it has a version): calls go
// straight to it. Before that, they are queued on the stub (created once, reused after).
const call = (method, first, second) => {
  if (copyFromWindow('tracklet.version')) {
    callInWindow('tracklet', method, first, second);
  } else {
    createArgumentsQueue('tracklet', 'tracklet.q')(method, first, second);
  }
};

// A template field left empty is an option left to its default.
const isSet = (value) => value !== undefined && value !== null && value !== '';

// Number fields arrive as text; a value GTM's validators let through that is not a number is
// passed on unchanged, so that the script names it in its warning rather than the tag hiding it.
const numberOf = (value) => {
  const number = makeNumber(value);
  return number === number ? number : value;
};

// A table of name/value rows as an object, or undefined when it has no rows.
const tableOf = (rows) => (getType(rows) === 'array' && rows.length ? makeTableMap(rows, 'name', 'value') : undefined);

const initOptions = () => {
  const options = { endpoint: data.endpoint, site: data.site };
  const flags = ['autoPageview', 'vitals', 'errors', 'clicks', 'engagement', 'outbound', 'scrub', 'includeLocal', 'debug'];
  flags.forEach((key) => {
    if (getType(data[key]) === 'boolean') options[key] = data[key];
  });
  ['spa', 'consent', 'storage', 'privacySignals', 'exclude', 'downloads', 'scrubParams'].forEach((key) => {
    if (isSet(data[key])) options[key] = data[key];
  });
  ['sampleRate', 'sessionTimeout', 'flushInterval'].forEach((key) => {
    if (isSet(data[key])) options[key] = numberOf(data[key]);
  });
  return options;
};

if (data.tagType === 'track') {
  if (!isSet(data.eventName)) {
    log('an event tag needs an event name');
    data.gtmOnFailure();
  } else {
    call('track', data.eventName, tableOf(data.eventProperties));
    data.gtmOnSuccess();
  }
} else {
  call('init', initOptions());
  const properties = tableOf(data.globalProperties);
  if (properties) call('set', properties);
  // The script URL is the cache token: the script is injected once per page, however often the tag fires.
  injectScript(data.scriptUrl, data.gtmOnSuccess, () => {
    log('could not load ' + data.scriptUrl);
    data.gtmOnFailure();
  }, data.scriptUrl);
}


___WEB_PERMISSIONS___

[
  {
    "instance": {
      "key": {
        "publicId": "logging",
        "versionId": "1"
      },
      "param": [
        {
          "key": "environments",
          "value": {
            "type": 1,
            "string": "debug"
          }
        }
      ]
    },
    "clientAnnotations": {
      "isEditedByUser": true
    },
    "isRequired": true
  },
  {
    "instance": {
      "key": {
        "publicId": "inject_script",
        "versionId": "1"
      },
      "param": [
        {
          "key": "urls",
          "value": {
            "type": 2,
            "listItem": [
              {
                "type": 1,
                "string": "https://*/"
              }
            ]
          }
        }
      ]
    },
    "clientAnnotations": {
      "isEditedByUser": true
    },
    "isRequired": true
  },
  {
    "instance": {
      "key": {
        "publicId": "access_globals",
        "versionId": "1"
      },
      "param": [
        {
          "key": "keys",
          "value": {
            "type": 2,
            "listItem": [
              {
                "type": 3,
                "mapKey": [
                  {
                    "type": 1,
                    "string": "key"
                  },
                  {
                    "type": 1,
                    "string": "read"
                  },
                  {
                    "type": 1,
                    "string": "write"
                  },
                  {
                    "type": 1,
                    "string": "execute"
                  }
                ],
                "mapValue": [
                  {
                    "type": 1,
                    "string": "tracklet"
                  },
                  {
                    "type": 8,
                    "boolean": true
                  },
                  {
                    "type": 8,
                    "boolean": true
                  },
                  {
                    "type": 8,
                    "boolean": true
                  }
                ]
              },
              {
                "type": 3,
                "mapKey": [
                  {
                    "type": 1,
                    "string": "key"
                  },
                  {
                    "type": 1,
                    "string": "read"
                  },
                  {
                    "type": 1,
                    "string": "write"
                  },
                  {
                    "type": 1,
                    "string": "execute"
                  }
                ],
                "mapValue": [
                  {
                    "type": 1,
                    "string": "tracklet.q"
                  },
                  {
                    "type": 8,
                    "boolean": true
                  },
                  {
                    "type": 8,
                    "boolean": true
                  },
                  {
                    "type": 8,
                    "boolean": false
                  }
                ]
              },
              {
                "type": 3,
                "mapKey": [
                  {
                    "type": 1,
                    "string": "key"
                  },
                  {
                    "type": 1,
                    "string": "read"
                  },
                  {
                    "type": 1,
                    "string": "write"
                  },
                  {
                    "type": 1,
                    "string": "execute"
                  }
                ],
                "mapValue": [
                  {
                    "type": 1,
                    "string": "tracklet.version"
                  },
                  {
                    "type": 8,
                    "boolean": true
                  },
                  {
                    "type": 8,
                    "boolean": false
                  },
                  {
                    "type": 8,
                    "boolean": false
                  }
                ]
              }
            ]
          }
        }
      ]
    },
    "clientAnnotations": {
      "isEditedByUser": true
    },
    "isRequired": true
  }
]


___TESTS___

scenarios:
- name: Load and configure queues init with the endpoint and site, then injects the script
  code: |-
    record();
    runCode({ tagType: 'init', scriptUrl: SCRIPT, endpoint: 'https://relay.example.com/collect', site: 'shop' });
    assertThat(calls).isEqualTo([['init', { endpoint: 'https://relay.example.com/collect', site: 'shop' }, undefined]]);
    assertThat(injected).isEqualTo([[SCRIPT, SCRIPT]]);
    assertThat(order).isEqualTo(['queue init', 'inject']);
    assertApi('gtmOnSuccess').wasCalled();
    assertApi('gtmOnFailure').wasNotCalled();
- name: Every option set in the fields is passed to init, typed
  code: |-
    record();
    runCode({
      tagType: 'init', scriptUrl: SCRIPT, endpoint: 'https://relay.example.com/collect', site: 'shop',
      autoPageview: false, spa: 'hash', consent: 'required', storage: 'none', privacySignals: 'ignore',
      sampleRate: '0.25', sessionTimeout: '45', flushInterval: '0', exclude: '/admin/*, /private',
      vitals: false, errors: true, clicks: false, engagement: true, outbound: true, downloads: 'pdf,zip',
      scrub: true, scrubParams: 'voucher', includeLocal: false, debug: true
    });
    assertThat(calls).isEqualTo([['init', {
      endpoint: 'https://relay.example.com/collect', site: 'shop',
      autoPageview: false, vitals: false, errors: true, clicks: false, engagement: true, outbound: true,
      scrub: true, includeLocal: false, debug: true,
      spa: 'hash', consent: 'required', storage: 'none', privacySignals: 'ignore',
      exclude: '/admin/*, /private', downloads: 'pdf,zip', scrubParams: 'voucher',
      sampleRate: 0.25, sessionTimeout: 45, flushInterval: 0
    }, undefined]]);
    assertApi('gtmOnSuccess').wasCalled();
- name: Fields left empty are left to the script's defaults
  code: |-
    record();
    runCode({
      tagType: 'init', scriptUrl: SCRIPT, endpoint: 'https://relay.example.com/collect', site: 'shop',
      sampleRate: '', sessionTimeout: '', flushInterval: '', exclude: '', downloads: '', scrubParams: ''
    });
    assertThat(calls).isEqualTo([['init', { endpoint: 'https://relay.example.com/collect', site: 'shop' }, undefined]]);
- name: A number field that is not a number reaches the script as written, for its warning
  code: |-
    record();
    runCode({ tagType: 'init', scriptUrl: SCRIPT, endpoint: 'https://relay.example.com/collect', site: 'shop', sampleRate: 'half' });
    assertThat(calls[0][1].sampleRate).isEqualTo('half');
- name: Properties for every event are set right after init
  code: |-
    record();
    runCode({
      tagType: 'init', scriptUrl: SCRIPT, endpoint: 'https://relay.example.com/collect', site: 'shop',
      globalProperties: [{ name: 'plan', value: 'pro' }, { name: 'country', value: 'DE' }]
    });
    assertThat(calls).isEqualTo([
      ['init', { endpoint: 'https://relay.example.com/collect', site: 'shop' }, undefined],
      ['set', { plan: 'pro', country: 'DE' }, undefined]
    ]);
- name: A script that fails to load fails the tag and says so in preview
  code: |-
    record();
    mock('injectScript', (url, onSuccess, onFailure) => onFailure());
    runCode({ tagType: 'init', scriptUrl: SCRIPT, endpoint: 'https://relay.example.com/collect', site: 'shop' });
    assertApi('gtmOnFailure').wasCalled();
    assertApi('gtmOnSuccess').wasNotCalled();
    assertApi('logToConsole').wasCalledWith('[tracklet] could not load ' + SCRIPT);
- name: Firing twice injects with the same cache token, so the page loads the script once
  code: |-
    record();
    const data = { tagType: 'init', scriptUrl: SCRIPT, endpoint: 'https://relay.example.com/collect', site: 'shop' };
    runCode(data);
    runCode(data);
    assertThat(injected).isEqualTo([[SCRIPT, SCRIPT], [SCRIPT, SCRIPT]]);
- name: An event tag queues track with its name and properties before the script has loaded
  code: |-
    record();
    runCode({ tagType: 'track', eventName: 'add_to_cart', eventProperties: [{ name: 'sku', value: 'A1' }, { name: 'price', value: 9.5 }] });
    assertThat(calls).isEqualTo([['track', 'add_to_cart', { sku: 'A1', price: 9.5 }]]);
    assertApi('injectScript').wasNotCalled();
    assertApi('gtmOnSuccess').wasCalled();
- name: An event tag without properties sends the name alone
  code: |-
    record();
    runCode({ tagType: 'track', eventName: 'newsletter_signup' });
    assertThat(calls).isEqualTo([['track', 'newsletter_signup', undefined]]);
- name: Once the script has loaded, calls go to window.tracklet directly
  code: |-
    record();
    mock('copyFromWindow', (key) => (key === 'tracklet.version' ? '0.1.0' : undefined));
    runCode({ tagType: 'track', eventName: 'signup', eventProperties: [{ name: 'plan', value: 'pro' }] });
    assertApi('callInWindow').wasCalledWith('tracklet', 'track', 'signup', { plan: 'pro' });
    assertApi('createArgumentsQueue').wasNotCalled();
    assertThat(calls).isEqualTo([]);
- name: An event tag without a name fails and sends nothing
  code: |-
    record();
    runCode({ tagType: 'track', eventName: '' });
    assertThat(calls).isEqualTo([]);
    assertApi('gtmOnFailure').wasCalled();
    assertApi('gtmOnSuccess').wasNotCalled();
- name: The template's permissions cover the globals and the script it uses
  code: |-
    // No mocks: the APIs run as they do on a page, each checked against the permissions.
    runCode({ tagType: 'init', scriptUrl: SCRIPT, endpoint: 'https://relay.example.com/collect', site: 'shop' });
    runCode({ tagType: 'track', eventName: 'signup' });
    assertApi('createArgumentsQueue').wasCalledWith('tracklet', 'tracklet.q');
    assertApi('injectScript').wasCalled();
    assertApi('gtmOnFailure').wasNotCalled();
setup: |-
  const SCRIPT = 'https://cdn.example.com/tracklet/tracklet.js';
  // What the template queued on the stub, what it injected, and in which order.
  let calls = [];
  let injected = [];
  let order = [];
  const record = () => {
    mock('createArgumentsQueue', (fnKey, arrayKey) => {
      assertThat(fnKey).isEqualTo('tracklet');
      assertThat(arrayKey).isEqualTo('tracklet.q');
      return (method, first, second) => {
        order.push('queue ' + method);
        calls.push([method, first, second]);
      };
    });
    mock('injectScript', (url, onSuccess, onFailure, cacheToken) => {
      order.push('inject');
      injected.push([url, cacheToken]);
      onSuccess();
    });
  };


___NOTES___

Tracklet's tag template. Import: Templates > Tag Templates > New > ⋮ > Import. See docs/gtm.md.
Before publishing, narrow the Injects Scripts permission (https://*/) to the host that serves tracklet.js.


