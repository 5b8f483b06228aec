// Administration, prompts: what callers hear. Admins upload audio files (WAV, MP3, OGG,
// FLAC) or have text spoken by the server's synthesizer, listen to each prompt exactly as a
// caller hears it (8 kHz G.711) and delete them; the built-in prompts are listed with a player
// per language.

import { w, $, esc, api, get, showError, confirmDialog, fmtDateTime } from './common.js';

const LANGUAGES = ['ru', 'en'];
const langOptions = (selected) => LANGUAGES.map((l) => `<option value="${l}"${l === selected ? ' selected' : ''}>${esc(w[`lang_${l}`] || l)}</option>`).join('');
const duration = (ms) => `${(ms / 1000).toFixed(1)} ${w.seconds_short}`;
const player = (src, id) => `<audio controls preload="none" src="${esc(src)}"${id ? ` id="${esc(id)}"` : ''}></audio>`;

/// The API's reasons for refusing audio, said in the page's language.
function audioProblem(error) {
  const message = (error.body && error.body.message) || '';
  const known = [['not an audio file', w.prompt_not_audio], ['longer than', w.prompt_too_long], ['is empty', w.prompt_empty], ['larger than', w.prompt_too_large],
    ['no speech synthesizer', w.synth_missing]];
  const found = known.find(([start]) => message.includes(start));
  return found ? found[1] : error.message;
}

export async function promptsView(box, reload) {
  const { prompts, built_in: builtIn, synthesizer } = await get('/api/prompts');
  const lang = document.documentElement.lang === 'ru' ? 'ru' : 'en';
  box.innerHTML = `<div class="columns">
<form id="upload-prompt" class="dialog-form"><h3>${esc(w.upload_prompt)}</h3>
<label>${esc(w.name)}<input name="name" required maxlength="100"></label>
<label>${esc(w.language)}<select name="language">${langOptions(lang)}</select></label>
<label>${esc(w.file)}<input type="file" name="file" required accept="audio/*,.wav,.mp3,.ogg,.flac"></label>
<p class="muted">${esc(w.prompt_upload_hint)}</p>
<div class="row"><button type="submit" id="upload-prompt-ok">${esc(w.upload)}</button></div></form>
<form id="speak-prompt" class="dialog-form"><h3>${esc(w.speak_prompt)}</h3>
<label>${esc(w.name)}<input name="name" required maxlength="100"></label>
<label>${esc(w.language)}<select name="language">${langOptions(lang)}</select></label>
<label>${esc(w.prompt_text)}<textarea name="text" rows="3" required maxlength="2000"></textarea></label>
<p class="muted" id="synth-state">${synthesizer.installed ? `${esc(w.synth_installed)}: ${esc(synthesizer.version || '')}` : esc(w.synth_missing)}</p>
<div class="row"><button type="submit" id="speak-prompt-ok"${synthesizer.installed ? '' : ' disabled'}>${esc(w.speak)}</button></div></form></div>
<p class="error" id="prompt-error" hidden></p>
<h3>${esc(w.own_prompts)}</h3>
<table class="list" id="prompts"><thead><tr><th>${esc(w.name)}</th><th>${esc(w.language)}</th><th>${esc(w.prompt_source)}</th><th>${esc(w.duration)}</th><th>${esc(w.listen)}</th><th>${esc(w.added_at)}</th><th></th></tr></thead><tbody>
${prompts.map((p) => `<tr data-id="${esc(p.id)}"><td>${esc(p.name)}</td><td>${esc(w[`lang_${p.language}`] || p.language)}</td><td><span class="muted">${esc(p.source === 'speech' ? w.source_speech : w.source_file)}:</span> ${esc(p.source === 'speech' ? p.text || '' : p.file_name || '')}</td>
<td>${esc(duration(p.duration_ms))}</td><td>${player(`/api/prompts/${p.id}/audio`)}</td><td>${esc(fmtDateTime(p.created_at))}</td>
<td><button type="button" data-delete="${esc(p.id)}">${esc(w.delete)}</button></td></tr>`).join('') || `<tr><td colspan="7" class="muted">${esc(w.no_prompts)}</td></tr>`}</tbody></table>
<h3>${esc(w.builtin_prompts)}</h3><p class="muted">${esc(w.builtin_hint)}</p>
<table class="list" id="builtin-prompts"><thead><tr><th>${esc(w.key)}</th><th>${esc(w.prompt_text)}</th><th>${esc(w.lang_ru)}</th><th>${esc(w.lang_en)}</th></tr></thead><tbody>
${builtIn.map((p) => `<tr><td><code>${esc(p.key)}</code></td><td>${esc(lang === 'ru' ? p.text_ru : p.text_en)}</td>
<td>${player(`/api/prompts/built-in/ru/${p.key}/audio`)}</td><td>${player(`/api/prompts/built-in/en/${p.key}/audio`)}</td></tr>`).join('')}</tbody></table>`;

  const fail = (error) => showError(audioProblem(error), 'prompt-error');
  $('upload-prompt').addEventListener('submit', async (event) => {
    event.preventDefault();
    const form = event.target;
    const file = form.file.files[0];
    if (!file) return;
    const query = new URLSearchParams({ name: form.name.value, language: form.language.value, file_name: file.name });
    const response = await fetch(`/api/prompts?${query}`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: file });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      fail({ body, message: body.message || String(response.status) });
      return;
    }
    await reload();
  });
  $('speak-prompt').addEventListener('submit', async (event) => {
    event.preventDefault();
    const form = event.target;
    $('speak-prompt-ok').disabled = true;
    try {
      await api('POST', '/api/prompts/speech', { name: form.name.value, language: form.language.value, text: form.text.value });
      await reload();
    } catch (error) {
      $('speak-prompt-ok').disabled = false;
      fail(error);
    }
  });
  box.querySelector('#prompts').addEventListener('click', async (event) => {
    const p = prompts.find((x) => x.id === event.target.dataset.delete);
    if (p && await confirmDialog(`${w.delete}: ${p.name}?`, w.delete)) {
      try { await api('DELETE', `/api/prompts/${p.id}`); await reload(); } catch (error) { showError(error); }
    }
  });
}
