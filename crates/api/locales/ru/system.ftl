### Texts the system writes: callback subjects, call outcomes, audit sentences, export headers.


## Spreadsheet exports: column headers (`col_<field>`); the contacts' are the ones the import
## reads back.
col_id = ID
col_last_name = Фамилия
col_first_name = Имя
col_middle_name = Отчество
col_phones = Телефоны
col_emails = Почта
col_company = Компания
col_position = Должность
col_owner = Ответственный
col_created_at = Создан
col_name = Название
col_tax_id = ИНН
col_website = Сайт
col_address = Адрес
col_title = Название
col_stage = Этап
col_status = Статус
col_amount = Сумма
col_currency = Валюта
col_probability = Вероятность, %
col_contact_id = ID контакта
col_loss_reason = Причина проигрыша
col_competitor = Конкурент
col_closed_at = Закрыта

## A deal's status in words.
deal_status_open = В работе
deal_status_won = Выиграна
deal_status_lost = Проиграна

## The dashboard's metrics: each definition (`def_<metric>`), the tiles' tooltips.
def_offered = Входящие звонки, попавшие в очередь; считаются в 15-минутном интервале, когда поступили.
def_answered = Поступившие звонки, на которые ответил оператор.
def_abandoned = Звонящие, положившие трубку до ответа, прождав не меньше порога коротких сбросов.
def_short_abandoned = Звонящие, положившие трубку до ответа быстрее порога коротких сбросов; не входят в числитель ни одного показателя.
def_timed_out = Звонки, снятые с очереди по истечении максимального ожидания.
def_blocked = Звонки, отклонённые на входе из-за предела одновременных звонков шлюза (ответ 503); считаются поступившими.
def_missed_offers = Вызовы оператора, оставшиеся без ответа (истекло время вызова или отказ), по одному на каждый вызов.
def_asa_ms = Среднее время ответа: ожидание в очереди отвеченных звонков / число отвеченных.
def_aht_ms = Среднее время обработки: (разговор + удержание + поствызывная обработка) / обработано. Переведённый звонок считается у каждого оператора, до которого дошёл.
def_avg_talk_ms = Разговор (время соединения без удержания) / обработано.
def_avg_hold_ms = Удержание / обработано.
def_avg_wrapup_ms = Поствызывная обработка / обработано.
def_handled = Звонки, обработанные операторами (переведённый — по разу на каждого оператора).
def_service_level = Отвечено в пределах порога очереди (ожидание ≤ Y) / поступило; все сбросы входят в знаменатель.
def_abandonment_rate = Потеряно / поступило.
def_occupancy = Время в разговоре и обработке / (оно же + время в готовности и на вызове); паузы и время не в сети не учитываются.
def_outbound_attempts = Набранные исходящие звонки.
def_outbound_connected = Исходящие звонки, на которые ответил клиент.
def_outbound_talk_ms = Время разговоров по исходящим звонкам.
def_callbacks = Задачи на перезвон за период; выполнено в срок (до назначенного времени); эскалировано из-за просрочки.

## The stages a fresh install starts with, until an administrator renames them.
stage_new = Новая
stage_qualified = Квалификация
stage_proposal = Коммерческое предложение
stage_negotiation = Переговоры

## The audit log in sentences: who, what was done, to which kind of record.
audit_line = {$who}: {$action} {$entity}
audit_verb_won = отметка «выиграна»
audit_verb_lost = отметка «проиграна»
audit_verb_open = возврат в работу
audit_verb_create = создание
audit_verb_update = изменение
audit_verb_delete = удаление
audit_verb_merge = объединение
audit_verb_export = выгрузка
audit_verb_import_file = импорт из файла
audit_verb_stage = перевод на другой этап
audit_verb_assign = назначение
audit_verb_callback = перезвон
audit_verb_escalate = эскалация
audit_verb_missed_again = повторный пропущенный звонок
audit_verb_outcome = запись итога
audit_verb_download = скачивание
audit_verb_play = прослушивание
audit_verb_legal_hold = запрет удаления
audit_verb_legal_hold_off = снятие запрета удаления
audit_verb_purge = удаление по сроку хранения
audit_verb_login = вход
audit_verb_revoke = отзыв
audit_verb_sip_endpoint = настройка телефона
audit_verb_complete = выполнение
audit_of_contact = контакта
audit_of_company = компании
audit_of_deal = сделки
audit_of_task = задачи
audit_of_note = заметки
audit_of_call = звонка
audit_of_user = пользователя
audit_of_team = команды
audit_of_queue = очереди
audit_of_stage = этапа
audit_of_custom_field = поля
audit_of_setting = настройки
audit_of_recording = записи
audit_of_entry_point = голосового меню
audit_of_schedule = расписания
audit_of_prompt = приветствия
audit_of_session = сеанса
audit_of_api_token = API-токена

## Kinds of record, for the audit log's filter.
audit_kind_contact = Контакт
audit_kind_company = Компания
audit_kind_deal = Сделка
audit_kind_task = Задача
audit_kind_note = Заметка
audit_kind_call = Звонок
audit_kind_user = Пользователь
audit_kind_team = Команда
audit_kind_queue = Очередь
audit_kind_stage = Этап
audit_kind_custom_field = Поле
audit_kind_setting = Настройка
audit_kind_recording = Запись
audit_kind_entry_point = Голосовое меню
audit_kind_schedule = Расписание
audit_kind_prompt = Приветствие
audit_kind_session = Сеанс
audit_kind_api_token = API-токен
show_json = Показать запись (JSON)

## Actions said as a whole, where the verb and the record would read badly.
audit_action_session_login = вход в систему
audit_action_contact_import_file = импорт контактов из файла

## Leads: the thank-you page a website's form gets, the snippet's fields, the audit log's words.
lead_thanks_title = Спасибо
lead_thanks = Спасибо: мы скоро вам перезвоним.
lead_field_name = Ваше имя
lead_field_phone = Телефон
lead_field_email = Почта
lead_field_message = Ваш вопрос
lead_field_send = Отправить
audit_of_lead = заявки
audit_of_lead_form = формы заявок
audit_kind_lead = Заявка
audit_kind_lead_form = Форма заявок
audit_of_webhook = вебхука
audit_kind_webhook = Вебхук
audit_of_delivery = отправки вебхука
audit_kind_delivery = Отправка вебхука
audit_verb_redeliver = повторная отправка
