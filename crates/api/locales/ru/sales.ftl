# Процесс продаж: воронки и их правила, товары и строки сделки, настройки продаж.

pipeline = Воронка
pipeline_sales = Воронка продаж
new_pipeline = Новая воронка
rename = Переименовать
adm_products = Товары
required_fields = Обязательно для перехода
stage_rules = При переходе
stage_rules_hint = Сделка переходит на этап, только когда заполнены его обязательные поля; затем правила этапа ставят задачи и оповещают сотрудников.
add_rule = Добавить правило
rule_action = Действие
rule_task = Поставить задачу
rule_notify = Оповестить
rule_subject = Тема задачи или текст оповещения
rule_whom = Кому
rule_owner = ответственный за сделку
rule_user = Сотрудник
rule_role = Роль
rule_due_in_hours = Срок, часов
rule_due_on = срок — дата из поля
rule_due_hours = { $count ->
    [one] срок { $count } час
    [few] срок { $count } часа
   *[other] срок { $count } часов
}
kind = Тип
req_amount = Сумма
req_contact_id = Контакт
req_company_id = Компания
req_owner_id = Ответственный
req_items = Товары
products = Товары и услуги
product = Товар
product_hint = начните вводить название или артикул; или впишите свою услугу
add_item = Добавить строку
item_name = Наименование
quantity = Количество
unit = Ед. изм.
unit_hint = шт, м², ч
price = Цена
price_from_product = из каталога
discount = Скидка
vat_rate = НДС
vat_from_product = из каталога
no_vat = без НДС
sum = Сумма
no_items = Товаров пока нет.
discount_total = Скидка
vat_included = В том числе НДС
vat_on_top = НДС
items_total = Итого
amount_typed = Сумма сделки введена вручную и не следует за товарами.
amount_follow_items = Считать по товарам
new_product = Новый товар
sku = Артикул
sales_settings = НДС и валюта
prices_include_vat = Цены включают НДС
prices_exclude_vat = НДС начисляется сверх цены
vat_rates = Ставки НДС, %
default_vat_rate = Ставка для новых товаров
notifications = Оповещения
no_notifications = Ничего нового.
notif_deal_stage = Сделка на новом этапе
notif_task_escalated = Просрочен перезвон
mark_read = Прочитано
