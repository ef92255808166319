// auth.js — the log in and sign up forms. Errors are the API's own messages
// ("username: must be 3-64 characters", "invalid username or password"),
// shown next to the form that caused them.

import { $ } from './dom.js';

/**
 * createAuth binds the sign-in section.
 *
 * @param {HTMLElement} root
 * @param {{api: Function, onLoggedIn: (user: object) => void}} deps
 */
export function createAuth(root, { api, onLoggedIn }) {
  const notice = $('auth-notice', root);
  const login = $('login-form', root);
  const signup = $('signup-form', root);

  // bind runs `work` on submit, with the button disabled and the form's
  // error line showing the API's message on failure.
  function bind(form, errorId, work) {
    const error = $(errorId, root);
    const button = form.querySelector('button[type=submit]');
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      error.hidden = true;
      button.disabled = true;
      const creds = { username: form.elements.username.value.trim(), password: form.elements.password.value };
      try {
        const user = await work(creds);
        form.elements.password.value = '';
        onLoggedIn(user);
      } catch (err) {
        error.textContent = err.message;
        error.hidden = false;
        form.elements[/^username/i.test(err.message) ? 'username' : 'password'].focus();
      } finally {
        button.disabled = false;
      }
    });
  }

  async function logIn(creds) {
    const res = await api('POST', '/api/sessions', creds);
    return res.user;
  }

  bind(login, 'login-error', logIn);
  bind(signup, 'signup-error', async (creds) => {
    await api('POST', '/api/users', creds);
    return logIn(creds);
  });

  return {
    /** show displays the forms, with an optional notice ("You were signed out."). */
    show(message = '') {
      notice.textContent = message;
      notice.hidden = message === '';
      for (const id of ['login-error', 'signup-error']) $(id, root).hidden = true;
      root.hidden = false;
      login.elements.username.focus();
    },
    hide() {
      root.hidden = true;
    },
  };
}
