### The API's error messages, by the error code and field the API returns.


err_unauthorized = Сначала войдите в систему
err_too_many_attempts = Слишком много неудачных попыток: повторите через { $seconds } с
err_busy = Сервер занят: повторите через { $seconds } с
err_forbidden = Ваша роль не позволяет это сделать
err_not_found =
    { $entity ->
        [contact] Контакт не найден
        [company] Компания не найдена
        [deal] Сделка не найдена
        [task] Задача не найдена
        [note] Заметка не найдена
        [user] Пользователь не найден
        [team] Команда не найдена
        [call] Звонок не найден
        [recording] Запись не найдена
        [queue] Очередь не найдена
        [stage] Этап не найден
       *[other] Не найдено
    }
err_malformed_json = Запрос не является корректным JSON
err_media_type = Отправьте запрос в формате JSON (Content-Type: application/json)
err_too_large = Запрос слишком большой
err_invalid = { $field }: { $reason }
err_duplicate = { $field }: { $value } уже есть в другой записи
err_conflict = Это нельзя сделать с записью в её текущем состоянии
err_unavailable = Эта функция не настроена на сервере или сейчас недоступна
err_switch = Телефония отклонила запрос
err_internal = Внутренняя ошибка: причину администратор найдёт в журнале сервера

## Why a field was refused.
reason_required = обязательное поле
reason_length =
    от { $min } до { $max } { $max ->
        [one] символа
       *[other] символов
    }
reason_max_chars =
    не длиннее { $max } { $max ->
        [one] символа
       *[other] символов
    }
reason_min_chars =
    не короче { $min } { $min ->
        [one] символа
       *[other] символов
    }
reason_between = от { $min } до { $max }
reason_not_negative = не может быть отрицательным
reason_phone = это не номер телефона
reason_email = это не адрес электронной почты
reason_length_no_spaces =
    от { $min } до { $max } { $max ->
        [one] символа
       *[other] символов
    } без пробелов
reason_max_days =
    не больше { $max } { $max ->
        [one] дня
       *[other] дней
    }
reason_max_items = не больше { $max }
reason_max_bytes = не больше { $max } байт
reason_file_too_large = файл больше { $max } МБ
reason_expected = допустимые значения: { $values }
reason_twice = указано дважды
reason_callback_due = у перезвона должен быть срок
reason_merge_self = контакт нельзя объединить с самим собой
reason_contact_empty = у контакта должно быть имя, телефон или почта
reason_lost_needs_reason = у проигранной сделки должна быть причина
reason_note_target = заметка относится к контакту, компании или сделке
reason_pause_needs_reason = у паузы должна быть причина
reason_file_empty = файл пуст
reason_headers = в первой строке должны быть заголовки столбцов
reason_row_columns = в строке не те столбцы, что в таблице
reason_no_stages = в воронке нет этапов
reason_after_from = должно быть позже начала
reason_operator_supervisor = оператор не может руководить командой
reason_self_demote = нельзя понизить или отключить самого себя
reason_control_chars = без переносов строк и управляющих символов
reason_task_no_number = обязательно (у задачи нет номера)
reason_extension_password = для добавочного нужен пароль
reason_uri_no_password = для постоянного адреса пароль не нужен
reason_uri_or_extension = укажите либо адрес, либо добавочный, но не оба
reason_currency = трёхбуквенный код, например RUB
reason_unknown_value = такого значения у поля нет
reason_announce = 0 (никогда) или от 10 до 600 секунд
reason_key_chars = от 1 до 32 латинских букв, цифр, «.», «_» или «-»
reason_custom_key = ключ дополнительного поля
reason_lead_contact = у заявки должен быть телефон или почта
reason_origin = ожидается сайт вида https://example.ru или *
reason_url = ожидается адрес, начинающийся с http:// или https://
reason_no_such = такой записи нет
reason_stage_requires = нужно заполнить, прежде чем сделка перейдёт на этот этап
reason_item_product = товар строки изменить нельзя: добавьте новую строку
reason_more_than_zero = должно быть больше 0

## The fields the API names in a refusal.
field_phones = Телефоны
field_emails = Почта
field_email = Почта
field_name = Название
field_first_name = Имя
field_last_name = Фамилия
field_middle_name = Отчество
field_title = Название
field_amount = Сумма
field_currency = Валюта
field_probability = Вероятность
field_subject = Тема
field_due_at = Срок
field_login = Логин
field_password = Пароль
field_current_password = Текущий пароль
field_new_password = Новый пароль
field_company_id = Компания
field_contact_id = Контакт
field_deal_id = Сделка
field_stage_id = Этап
field_assignee_id = Исполнитель
field_owner_id = Ответственный
field_number = Номер
field_reason = Причина
field_label = Название
field_text = Текст
field_status = Статус
field_task_ids = Перезвоны
field_dispositions = Результаты звонка
field_retention_days = Срок хранения
field_extension = Добавочный
field_body = Текст
field_position = Должность
field_tax_id = ИНН
field_website = Сайт
field_address = Адрес
field_format = Формат
field_file = Файл
field_language = Язык
field_callback_minutes = Перезвонить в течение, минут
field_allowed_origins = Сайты
field_phone = Телефон
field_message = Сообщение
field_pipeline_id = Воронка
field_required_fields = Обязательные поля
field_product_id = Товар
field_sku = Артикул
field_unit = Единица
field_price = Цена
field_quantity = Количество
field_discount = Скидка
field_vat_rate = Ставка НДС
field_items = Товары
field_due_hours = Срок, часов
field_due_field = Срок по дате из поля
field_assignee_user_id = Сотрудник
field_assignee_role = Роль
