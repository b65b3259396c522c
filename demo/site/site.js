// The marketing site's own script (not Tracklet): a toast for the tagged buttons, and two buttons
// that fail on purpose so that Tracklet's error capture has something to report.
const toast = (text) => {
  let box = document.querySelector('.toast');
  if (!box) {
    box = document.createElement('div');
    box.className = 'toast';
    box.setAttribute('role', 'status');
    document.body.append(box);
  }
  box.textContent = text;
  box.classList.add('show');
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => box.classList.remove('show'), 2200);
};

document.addEventListener('click', (event) => {
  const target = event.target.closest('[data-tracklet-event], [data-demo]');
  if (!target) return;
  if (target.dataset.demo == 'throw') {
    // A real bug: reading a property of a cart that failed to load.
    const cart = null;
    toast('Thrown: TypeError (see the live viewer)');
    return cart.items.length;
  }
  if (target.dataset.demo == 'reject') {
    toast('Rejected a promise nobody handles (see the live viewer)');
    Promise.reject(new Error('Quote service timed out after 3000 ms'));
    return;
  }
  if (target.tagName == 'BUTTON') {
    const props = Object.entries(target.dataset)
      .filter(([key]) => key.startsWith('trackletProp'))
      .map(([key, value]) => `${key.slice(12).toLowerCase()}=${value}`);
    toast(`"${target.dataset.trackletEvent}" ${props.join(' ')}: tagged with data-tracklet-event`);
  }
});
