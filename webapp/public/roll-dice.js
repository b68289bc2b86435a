// "Roll N dice", enhanced: without this script the form asks the server for a page with all the dice;
// with it, the dice arrive one by one from GET /api/roll-dice (Server-Sent Events), as the server
// rolls them. Served from this origin only (the page's CSP: script-src 'self', connect-src 'self').
const faces = ['⚀', '⚁', '⚂', '⚃', '⚄', '⚅'];
const form = document.querySelector('form[data-roll-dice]');
const dice = document.querySelector('[data-testid="dice"]');
const notice = document.querySelector('[data-testid="dice-notice"]');
let source;

function tell(sentence) {
  notice.textContent = sentence;
  notice.hidden = false;
}

form?.addEventListener('submit', (event) => {
  event.preventDefault();
  source?.close();
  dice.replaceChildren();
  dice.hidden = false;
  notice.hidden = true;
  for (const single of document.querySelectorAll('.face, .value, .replica')) single.remove();
  const count = new FormData(form).get('count');
  source = new EventSource(`/api/roll-dice?count=${encodeURIComponent(count)}`);
  source.addEventListener('roll', (message) => {
    const { value } = JSON.parse(message.data);
    const die = document.createElement('li');
    die.textContent = faces[value - 1];
    die.dataset.value = String(value);
    die.setAttribute('role', 'img');
    die.setAttribute('aria-label', `Die showing ${value}`);
    dice.append(die);
  });
  source.addEventListener('end', () => source.close());
  // The service failed after some dice had been rolled: the server says so, in a sentence.
  source.addEventListener('failure', (message) => {
    source.close();
    tell(`${JSON.parse(message.data).error}.`);
  });
  // No stream, or a stream cut short (the service or the web app down): EventSource would reconnect
  // and roll again, so stop, and say what the server's own page would say.
  source.addEventListener('error', () => {
    source.close();
    tell(`${form.dataset.unavailable}.`);
  });
});
