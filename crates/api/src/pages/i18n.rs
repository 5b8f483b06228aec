//! The pages' words in English and Russian. Keys are shared by the server-rendered HTML and
//! the console's script (which gets the table of the page's language as JSON).

use serde::Serialize;

/// A language of the UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Lang {
    En,
    Ru,
}

impl Lang {
    pub(crate) fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ru => "ru",
        }
    }

    /// `?lang=`, else the `sb_lang` cookie, else the first of Accept-Language we speak, else English.
    pub(crate) fn choose(query: Option<&str>, cookie: Option<&str>, accept: Option<&str>) -> Lang {
        let parse = |s: &str| match s.trim().get(..2).map(str::to_ascii_lowercase).as_deref() {
            Some("ru") => Some(Lang::Ru),
            Some("en") => Some(Lang::En),
            _ => None,
        };
        query
            .and_then(parse)
            .or_else(|| cookie.and_then(parse))
            .or_else(|| {
                accept.and_then(|a| {
                    a.split(',').find_map(|part| parse(part.split(';').next().unwrap_or("")))
                })
            })
            .unwrap_or(Lang::En)
    }
}

/// (key, English, Russian)
const WORDS: &[(&str, &str, &str)] = &[
    ("app", "Switchboard", "Switchboard"),
    ("login_title", "Sign in", "Вход"),
    ("login", "Login", "Логин"),
    ("password", "Password", "Пароль"),
    ("sign_in", "Sign in", "Войти"),
    ("sign_out", "Sign out", "Выйти"),
    ("bad_login", "Wrong login or password", "Неверный логин или пароль"),
    (
        "login_throttled",
        "Too many failed attempts: try again in a few minutes",
        "Слишком много неудачных попыток: попробуйте через несколько минут",
    ),
    (
        "server_busy",
        "The server is busy: try again in a moment",
        "Сервер занят: попробуйте ещё раз через несколько секунд",
    ),
    (
        "server_busy_retrying",
        "Many people are signing in: waiting for the server…",
        "Сейчас входят многие: ждём сервер…",
    ),
    ("account", "My account", "Мой профиль"),
    ("change_password", "Change password", "Сменить пароль"),
    ("current_password", "Current password", "Текущий пароль"),
    ("repeat_password", "New password again", "Новый пароль ещё раз"),
    ("password_rules", "At least 8 characters.", "Не короче 8 символов."),
    (
        "password_changed",
        "Password changed. Other sessions are signed out.",
        "Пароль изменён. Остальные сеансы завершены.",
    ),
    ("passwords_differ", "The two new passwords differ", "Новые пароли не совпадают"),
    ("wrong_current_password", "The current password is wrong", "Текущий пароль неверен"),
    (
        "password_too_short",
        "The new password needs at least 8 characters",
        "Новый пароль должен быть не короче 8 символов",
    ),
    ("console", "Operator console", "Пульт оператора"),
    ("my_state", "My state", "Мой статус"),
    ("softphone", "Softphone", "Телефон"),
    ("go_available", "Available", "Готов"),
    ("pause", "Pause", "Пауза"),
    ("reason_lunch", "Lunch", "Обед"),
    ("pause_reason", "Pause reason", "Причина паузы"),
    ("reason_break", "Break", "Перерыв"),
    ("reason_training", "Training", "Обучение"),
    ("reason_other", "Other", "Другое"),
    ("reason_connection_lost", "connection lost", "связь потеряна"),
    ("go_offline", "Offline", "Не в сети"),
    ("state_offline", "Offline", "Не в сети"),
    ("state_available", "Available", "Готов"),
    ("state_ringing", "Ringing", "Входящий вызов"),
    ("state_on_call", "On a call", "Разговор"),
    ("state_wrap_up", "Wrap-up", "Обработка"),
    ("state_paused", "Paused", "Пауза"),
    ("softphone_connected", "connected", "подключён"),
    ("softphone_connecting", "connecting…", "подключение…"),
    ("softphone_lost", "connection lost", "нет связи"),
    (
        "console_replaced",
        "The console is open in another tab or window; this one has stopped.",
        "Пульт открыт в другой вкладке или окне; здесь он остановлен.",
    ),
    ("use_here", "Use it here", "Работать здесь"),
    ("call", "Call", "Звонок"),
    ("no_call", "No call", "Нет звонка"),
    ("incoming", "Incoming call", "Входящий звонок"),
    ("incoming_desk_phone", "Incoming call on your desk phone", "Входящий вызов на ваш телефон"),
    ("talking", "Talking with", "Разговор с"),
    ("answer", "Answer", "Ответить"),
    ("hang_up", "Hang up", "Завершить"),
    ("hold", "Hold", "Удержание"),
    ("resume", "Resume", "Снять с удержания"),
    ("mute", "Mute", "Микрофон выкл."),
    ("unmute", "Unmute", "Микрофон вкл."),
    ("keypad", "Keypad", "Клавиатура"),
    ("call_ended", "Call ended", "Звонок завершён"),
    (
        "withdrawn",
        "The call was taken elsewhere or the caller hung up",
        "Звонок принят другим оператором или абонент положил трубку",
    ),
    ("card", "Client card", "Карточка клиента"),
    ("unknown_caller", "Unknown number", "Неизвестный номер"),
    (
        "several_matches",
        "Several contacts have this number: pick one",
        "Этот номер у нескольких контактов: выберите",
    ),
    ("company", "Company", "Компания"),
    ("owner", "Owner", "Ответственный"),
    ("open_deals", "Open deals", "Открытые сделки"),
    ("last_calls", "Last calls", "Последние звонки"),
    ("open_tasks", "Open tasks", "Открытые задачи"),
    ("none", "none", "нет"),
    ("create_contact", "Create contact", "Создать контакт"),
    ("first_name", "First name", "Имя"),
    ("last_name", "Last name", "Фамилия"),
    ("phone", "Phone", "Телефон"),
    ("deal_title", "Deal (optional)", "Сделка (необязательно)"),
    ("save", "Save", "Сохранить"),
    ("created", "Contact created", "Контакт создан"),
    ("dial", "Place a call", "Позвонить"),
    ("number", "Number", "Номер"),
    ("dial_button", "Call", "Позвонить"),
    ("error", "Error", "Ошибка"),
    // Why the switch refused an agent's request (`err_` + the API's error code).
    (
        "err_softphone_not_connected",
        "the softphone is not connected yet: wait a few seconds, or reload the page",
        "телефон в браузере ещё не подключён: подождите несколько секунд или обновите страницу",
    ),
    (
        "err_no_phone",
        "no phone is set up for you: ask an administrator",
        "для вас не настроен телефон: обратитесь к администратору",
    ),
    (
        "err_no_queues",
        "you are not in any queue: ask an administrator",
        "вы не состоите ни в одной очереди: обратитесь к администратору",
    ),
    (
        "err_agent_busy",
        "you are on a call or being offered one",
        "вы разговариваете или вам поступает звонок",
    ),
    (
        "err_click_to_call_off",
        "calling out is not set up on this server",
        "исходящие звонки на этом сервере не настроены",
    ),
    (
        "err_not_now",
        "not possible in your present state",
        "сейчас это невозможно в вашем состоянии",
    ),
    (
        "err_gateway",
        "the gateway cannot place the call now: try again",
        "шлюз сейчас не может совершить звонок: попробуйте ещё раз",
    ),
    ("call_form", "After-call form", "Итоги звонка"),
    ("dialing", "Calling…", "Вызов…"),
    ("tasks_due", "Tasks due", "Задачи к выполнению"),
    ("phones", "Phones", "Телефоны"),
    ("transfer", "Transfer", "Перевести"),
    ("transfer_to", "Transfer to", "Перевести на"),
    ("agents", "Agents", "Операторы"),
    ("queues", "Queues", "Очереди"),
    ("reason", "Reason for the call", "Причина обращения"),
    ("disposition", "Outcome", "Результат"),
    ("notes", "Notes", "Заметки"),
    ("deal", "Deal", "Сделка"),
    (
        "deal_auto",
        "the contact's open deal, if only one",
        "открытая сделка контакта, если она одна",
    ),
    ("no_deal", "no deal", "без сделки"),
    ("new_deal", "or a new deal:", "или новая сделка:"),
    ("form_saved", "Saved", "Сохранено"),
    ("disp_resolved", "Resolved", "Вопрос решён"),
    ("disp_callback_needed", "Callback needed", "Нужен перезвон"),
    ("disp_sale", "Sale", "Продажа"),
    ("disp_not_interested", "Not interested", "Не заинтересован"),
    ("disp_wrong_number", "Wrong number", "Ошиблись номером"),
    ("disp_complaint", "Complaint", "Жалоба"),
    ("recordings", "Recordings", "Записи разговоров"),
    ("date_from", "From", "С"),
    ("date_to", "To", "По"),
    ("agent", "Agent", "Оператор"),
    ("queue", "Queue", "Очередь"),
    ("any", "any", "все"),
    ("min_duration", "Min. seconds", "От, сек"),
    ("max_duration", "Max. seconds", "До, сек"),
    ("search", "Search", "Найти"),
    ("waveform", "Waveform: click to seek", "Осциллограмма: щёлкните для перемотки"),
    ("download", "Download", "Скачать"),
    ("legal_hold", "Legal hold (kept past retention)", "Не удалять (хранить сверх срока)"),
    ("when", "When", "Когда"),
    ("direction", "Direction", "Направление"),
    ("duration", "Duration", "Длительность"),
    ("play", "Play", "Слушать"),
    ("found", "Found", "Найдено"),
    ("inbound", "inbound", "входящий"),
    ("outbound", "outbound", "исходящий"),
    ("pause_recording", "Pause recording", "Приостановить запись"),
    ("resume_recording", "Resume recording", "Возобновить запись"),
    ("recording_paused", "Recording paused", "Запись приостановлена"),
    ("schedule_callback", "Schedule a callback", "Запланировать перезвон"),
    ("callback_scheduled", "Callback scheduled", "Перезвон запланирован"),
    ("call_back", "Call back", "Перезвонить"),
    ("done", "Done", "Выполнено"),
    ("result", "Result", "Результат"),
    ("escalations", "Escalated to me", "Эскалации мне"),
    ("overdue", "Overdue", "Просрочено"),
    ("callback_subject", "Call back", "Перезвонить"),
    ("missed_calls", "missed calls", "пропущенных"),
    ("channel_customer", "customer", "клиент"),
    ("channel_agent", "agent", "оператор"),
    ("dashboard", "Dashboard", "Сводка"),
    ("forbidden", "Your role does not allow this page", "Эта страница недоступна вашей роли"),
    ("forbidden_title", "No access", "Нет доступа"),
    ("go_home", "To the start page", "На главную"),
    ("chart_hourly", "Calls per hour of day", "Звонки по часам"),
    ("chart_sl", "Service level by day", "Уровень сервиса по дням"),
    ("chart_aht", "Average handle time by agent", "Среднее время обработки по операторам"),
    ("chart_dispositions", "Calls per outcome", "Звонки по результатам"),
    ("offered", "Offered", "Поступило"),
    ("answered", "Answered", "Принято"),
    ("not_answered", "Not answered", "Не принято"),
    ("service_level", "Service level", "Уровень сервиса"),
    ("asa", "ASA", "Ср. время ответа"),
    ("aht", "AHT", "Ср. время обработки"),
    ("abandonment_rate", "Abandoned", "Потеряно"),
    ("short_abandoned", "Short abandons", "Короткие сбросы"),
    ("missed_offers", "Missed by agents", "Пропущено операторами"),
    ("timed_out", "Released after the maximum wait", "Сброшены по времени ожидания"),
    ("blocked", "Refused: all lines busy", "Отклонены: все линии заняты"),
    ("occupancy", "Occupancy", "Загрузка"),
    (
        "callbacks",
        "Callbacks: created / on time / escalated",
        "Перезвоны: создано / вовремя / эскалировано",
    ),
    ("outbound_figures", "Outbound: attempts / connected", "Исходящие: попытки / соединено"),
    ("hour", "Hour", "Час"),
    ("day", "Day", "День"),
    ("handled", "Handled", "Обработано"),
    ("talk", "Talk", "Разговор"),
    ("wrap_up", "Wrap-up", "Постобработка"),
    ("calls", "Calls", "Звонки"),
    ("no_disposition", "no outcome", "без результата"),
    ("wallboard", "Wallboard", "Табло"),
    ("live", "live", "онлайн"),
    ("waiting", "Waiting", "Ожидают"),
    ("oldest_wait", "Oldest wait", "Дольше всех ждёт"),
    ("abandoned_count", "Abandoned", "Потеряно"),
    ("overdue_callbacks", "Overdue callbacks", "Просроченные перезвоны"),
    ("listen", "Listen", "Слушать"),
    ("whisper", "Whisper", "Суфлёр"),
    ("barge", "Barge in", "Вмешаться"),
    ("stop_listening", "Stop", "Отключиться"),
    ("listening_to", "On the call of", "На звонке оператора"),
    ("listen_level", "Audio level of the call", "Уровень звука звонка"),
    ("listen_connecting", "Connecting audio…", "Подключение звука…"),
    ("listen_ended", "The call ended", "Звонок завершён"),
    ("listen_taken_over", "Another supervisor took the call", "Звонок взял другой супервизор"),
];

fn all_words() -> impl Iterator<Item = &'static (&'static str, &'static str, &'static str)> {
    WORDS
        .iter()
        .chain(super::words_crm::CRM_WORDS)
        .chain(super::words_admin::ADMIN_WORDS)
        .chain(super::words_callbacks::CALLBACK_WORDS)
}

pub(crate) fn t(lang: Lang, key: &str) -> &'static str {
    all_words()
        .find(|(k, _, _)| *k == key)
        .map_or("?", |(_, en, ru)| if lang == Lang::Ru { ru } else { en })
}

/// The whole table for one language, as a JSON object.
pub(crate) fn table_json(lang: Lang) -> String {
    let map: serde_json::Map<String, serde_json::Value> = all_words()
        .map(|(k, en, ru)| {
            ((*k).to_owned(), serde_json::Value::from(if lang == Lang::Ru { *ru } else { *en }))
        })
        .collect();
    serde_json::Value::Object(map).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_from_query_cookie_or_header() {
        assert_eq!(Lang::choose(Some("ru"), None, None), Lang::Ru);
        assert_eq!(Lang::choose(None, Some("ru"), Some("en-US")), Lang::Ru);
        assert_eq!(Lang::choose(None, None, Some("ru-RU,ru;q=0.9,en;q=0.8")), Lang::Ru);
        assert_eq!(Lang::choose(None, None, Some("de-DE,en;q=0.5")), Lang::En);
        assert_eq!(Lang::choose(Some("xx"), None, None), Lang::En);
    }

    #[test]
    fn every_word_has_both_languages_once() {
        let mut seen = std::collections::HashSet::new();
        for (key, en, ru) in all_words() {
            assert!(!en.is_empty() && !ru.is_empty(), "{key}");
            assert!(seen.insert(*key), "{key} is in the tables twice");
        }
        assert_eq!(t(Lang::Ru, "answer"), "Ответить");
    }

    /// Every `w.key` a page script reads is in the tables, so no label shows as `undefined`.
    #[test]
    fn every_word_the_scripts_use_exists() {
        let known: std::collections::HashSet<&str> = all_words().map(|(k, _, _)| *k).collect();
        let mut missing = Vec::new();
        for (file, text) in super::super::ASSETS.iter().filter(|(name, _)| name.ends_with(".js")) {
            let bytes = text.as_bytes();
            for (at, _) in text.match_indices("w.") {
                let before = if at == 0 { b' ' } else { bytes[at - 1] };
                if before.is_ascii_alphanumeric()
                    || before == b'_'
                    || before == b'.'
                    || before == b'$'
                {
                    continue;
                }
                let key: String = text[at + 2..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !key.is_empty() && !known.contains(key.as_str()) {
                    missing.push(format!("{file}: {key}"));
                }
            }
        }
        missing.sort();
        missing.dedup();
        assert!(missing.is_empty(), "words missing from the tables: {missing:#?}");
    }
}
