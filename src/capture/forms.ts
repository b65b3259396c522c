/**
 * Form submissions, opt-in (`data-forms="true"`, or `forms()` on npm): a custom event `form_submit`
 * with the form's id, name, method and the path of its action. Never a field's value, name or count.
 */
import type { Capture } from '../core/contract';
import type { Properties } from '../types';
import { safe } from '../core/safe';

/** What `form_submit` says of a form: only attributes the page's author wrote, never what a visitor typed. */
export const formProps = (form: HTMLFormElement, submitter?: HTMLElement | null): Properties => {
  // `form.action` and `form.id` may be shadowed by fields named "action" or "id": read the attributes.
  const action = new URL(
    submitter?.getAttribute('formaction') || form.getAttribute('action') || '',
    location.href,
  );
  const properties: Properties = {
    form_id: form.getAttribute('id') || '',
    form_name: form.getAttribute('name') || '',
    form_method: (
      submitter?.getAttribute('formmethod') ||
      form.getAttribute('method') ||
      'get'
    ).toLowerCase(),
    form_action: action.pathname,
  };
  // Another host is worth knowing (a payment provider); its query and fragment are not.
  if (action.host != location.host) properties.form_host = action.host;
  return properties;
};

/**
 * The form capture: one listener on the document, in the capture phase (a page handler that stops
 * the event cannot hide it), flushing at once since the submission may end the page. A submission
 * the page cancels (`preventDefault`, single-page apps) still counts: the visitor did submit.
 */
export const forms =
  (): Capture =>
  ({ emit, flush }) => {
    const onSubmit = safe((event: SubmitEvent) => {
      const form = event.target as HTMLFormElement;
      if (!(form instanceof HTMLFormElement)) return;
      emit({ type: 'event', name: 'form_submit', properties: formProps(form, event.submitter) });
      flush();
    });
    document.addEventListener('submit', onSubmit as EventListener, true);
    return () => document.removeEventListener('submit', onSubmit as EventListener, true);
  };
