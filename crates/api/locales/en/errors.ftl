### The API's error messages, by the error code and field the API returns.


err_unauthorized = Sign in first
err_too_many_attempts = Too many failed attempts: try again in { $seconds } s
err_busy = The server is busy: try again in { $seconds } s
err_forbidden = Your role does not allow this
err_not_found = Not found: { $entity }
err_malformed_json = The request is not valid JSON
err_media_type = Send the request as JSON (Content-Type: application/json)
err_too_large = The request is too large
err_invalid = { $field }: { $reason }
err_duplicate = { $field }: { $value } already belongs to another record
err_conflict = { $detail }
err_unavailable = { $detail }
err_switch = { $detail }
err_internal = Internal error: the administrator finds the cause in the server's log

## Why a field was refused.
reason_required = required
reason_length = { $min } to { $max } characters
reason_max_chars = at most { $max } characters
reason_min_chars = at least { $min } characters
reason_between = from { $min } to { $max }
reason_not_negative = must not be negative
reason_phone = not a phone number
reason_email = not an email address
reason_no_such = no such record

## The fields the API names in a refusal.
field_phones = Phones
field_emails = Emails
field_email = Email
field_name = Name
field_first_name = First name
field_last_name = Last name
field_middle_name = Middle name
field_title = Title
field_amount = Amount
field_currency = Currency
field_probability = Probability
field_subject = Subject
field_due_at = Due
field_login = Login
field_password = Password
field_current_password = Current password
field_new_password = New password
field_company_id = Company
field_contact_id = Contact
field_deal_id = Deal
field_stage_id = Stage
field_assignee_id = Assignee
field_owner_id = Owner
field_number = Number
field_reason = Reason
field_label = Label
field_text = Text
field_status = Status
field_task_ids = Callbacks
field_dispositions = Call results
field_retention_days = Retention
field_extension = Extension
field_body = Text
field_position = Position
field_tax_id = Tax ID
field_website = Website
field_address = Address
field_format = Format
field_file = File
field_language = Language
