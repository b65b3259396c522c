import { off, type Capture, type Context } from '../core/contract';
import type { Properties } from '../types';
import { safe } from '../core/safe';
import { splitList } from './list';

/** Options of the click capture (npm); on a script tag they are `data-outbound` and `data-downloads`. */
export interface ClickOptions {
  /** Send `outbound_click` with `url` for links to other hosts. Default false (`data-outbound`). */
  outbound?: boolean;
  /**
   * Send `file_download` with `url` for links to files: true for {@link DOWNLOADS}, or the
   * extensions. Default off (`data-downloads`).
   */
  downloads?: boolean | string[];
}

/** File extensions counted as downloads with `downloads: true`. */
export const DOWNLOADS = 'pdf,zip,gz,7z,dmg,exe,msi,apk,csv,xlsx,docx,pptx,txt,mp3,mp4'.split(',');

/** `data-tracklet-prop-plan="pro"` → `{ plan: "pro" }` (the name after the prefix, as written). */
export const propsOf = (element: Element): Properties => {
  const properties: Properties = {};
  for (const { name, value } of element.attributes) {
    const prop = /^data-tracklet-prop-(.+)/.exec(name);
    if (prop) properties[prop[1]] = value;
  }
  return properties;
};

/** `"true"` → the usual extensions, `"pdf, zip"` → those, `""`/`"false"` → none. */
export const parseDownloads = (value: boolean | string | string[] | undefined): string[] =>
  value === true || value === 'true'
    ? DOWNLOADS
    : Array.isArray(value)
      ? value
      : value && value != 'false'
        ? splitList(value).map((ext) => ext.replace(/^\./, '').toLowerCase())
        : [];

/**
 * Clicks: elements tagged `data-tracklet-event="name"` send a custom event `name` with their
 * `data-tracklet-prop-*` attributes as properties; optionally outbound links and file downloads.
 * One delegated listener on the document serves every element, including ones added later. When
 * the click is on a link or in a form, the queue is flushed at once so the event leaves before the
 * page does.
 */
export const clicks =
  (options: ClickOptions = {}): Capture =>
  ({ emit, flush, config, early }: Context & { early?: Event[] }) => {
    // On a script tag: on when `data-outbound` is there (empty too), unless it is "false".
    const outbound = options.outbound ?? (config.outbound != null && !off(config.outbound));
    const downloads = parseDownloads(options.downloads ?? config.downloads);
    const onClick = safe((event: MouseEvent) => {
      // `auxclick` only for the middle button (open in a new tab); a right click opens a menu.
      if (event.type == 'auxclick' && event.button != 1) return;
      const target = event.target as Element;
      // A target without `closest` (the document itself) throws here, inside safe(): nothing to track.
      const tagged = target.closest('[data-tracklet-event]');
      const link = target.closest<HTMLAnchorElement>('a[href],area[href]');
      let sent: unknown;
      const count = (name: string, properties: Properties) =>
        (sent = emit({ type: 'event', name, properties }));
      if (tagged) count(tagged.getAttribute('data-tracklet-event')!, propsOf(tagged));
      if (link && /^https?:$/.test(link.protocol)) {
        const url = link.href;
        const extension = /\.([a-z0-9]+)$/i.exec(link.pathname)?.[1].toLowerCase();
        if (outbound && link.host != location.host) count('outbound_click', { url });
        if (extension && downloads.includes(extension)) count('file_download', { url });
      }
      // A link or a form submit may unload the page before the next timed flush.
      if (sent && (link || target.closest('form'))) flush();
    }) as EventListener;
    // Capture phase: a page handler that stops propagation cannot hide the click.
    for (const type of ['click', 'auxclick']) document.addEventListener(type, onClick, true);
    // Clicks the script tag's first file kept while this capture was on its way (it keeps errors too).
    early?.forEach((event) => /click/.test(event.type) && onClick(event));
    if (TEARDOWN)
      return () => {
        for (const type of ['click', 'auxclick']) document.removeEventListener(type, onClick, true);
      };
  };
