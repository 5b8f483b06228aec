#!/usr/bin/env python3
"""Generates the built-in prompts that ship with Switchboard, in Russian and English.

Each phrase is spoken by espeak-ng and converted by sox to what the gateway plays: 8 kHz mono
G.711 mu-law WAV, written to assets/prompts/<language>/<key>.wav. The list of prompts the
binary embeds, crates/media/src/prompt/builtin.rs, is written too. Run it again after changing
a phrase and commit what it wrote:

    python3 scripts/make-prompts.py

Needs the Debian packages espeak-ng and sox.
"""

import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ASSETS = os.path.join(ROOT, "assets", "prompts")
LIST = os.path.join(ROOT, "crates", "media", "src", "prompt", "builtin.rs")

# The most positions and minutes announced as a number; beyond them, "more than".
MAX_POSITION = 20
MAX_MINUTES = 15

RU_UNITS = ["", "один", "два", "три", "четыре", "пять", "шесть", "семь", "восемь", "девять",
            "десять", "одиннадцать", "двенадцать", "тринадцать", "четырнадцать", "пятнадцать",
            "шестнадцать", "семнадцать", "восемнадцать", "девятнадцать", "двадцать"]
EN_UNITS = ["", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
            "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
            "eighteen", "nineteen", "twenty"]


def ru_minutes(n):
    """'N минут' with the number in words, agreeing in gender and case (минута is feminine)."""
    word = {1: "одна", 2: "две"}.get(n, RU_UNITS[n])
    if n % 10 == 1 and n % 100 != 11:
        noun = "минута"
    elif n % 10 in (2, 3, 4) and n % 100 not in (12, 13, 14):
        noun = "минуты"
    else:
        noun = "минут"
    return f"{word} {noun}"


PHRASES = {
    "ru": {
        "greeting": "Здравствуйте! Вы позвонили в контактный центр.",
        "recording_notice": "Обратите внимание: для контроля качества обслуживания все разговоры записываются.",
        "all_busy": "Все операторы сейчас заняты. Пожалуйста, оставайтесь на линии, вам обязательно ответят.",
        "position_more": f"Перед вами больше {'двадцати'} звонков.",
        "wait_less": "Примерное время ожидания — меньше минуты.",
        "wait_more": f"Примерное время ожидания — больше {'пятнадцати'} минут.",
        "after_hours": "Сейчас контактный центр не работает. Пожалуйста, позвоните нам в рабочее время.",
        "voicemail": "Оставьте, пожалуйста, сообщение после сигнала. Мы перезвоним вам. Когда закончите, положите трубку.",
        "callback_offer": "Чтобы не ждать на линии, нажмите один: мы перезвоним вам, как только освободится оператор, и ваша очередь сохранится.",
        "callback_number": "Мы перезвоним на номер, с которого вы звоните. Если он верный, нажмите один. Чтобы ввести другой номер, нажмите два.",
        "enter_number": "Введите номер телефона и нажмите решётку.",
        "callback_confirmed": "Спасибо! Мы перезвоним вам, когда подойдёт ваша очередь. До свидания.",
        "callback_offer_closed": "Чтобы мы перезвонили вам, когда начнём работу, нажмите один.",
        "callback_confirmed_closed": "Спасибо! Мы перезвоним вам в рабочее время. До свидания.",
        "invalid_choice": "Неверный выбор. Попробуйте ещё раз.",
        "goodbye": "Спасибо за звонок. До свидания.",
    },
    "en": {
        "greeting": "Hello, and thank you for calling.",
        "recording_notice": "Please note that calls are recorded for quality purposes.",
        "all_busy": "All our operators are busy at the moment. Please stay on the line, and your call will be answered.",
        "position_more": "There are more than twenty calls ahead of you.",
        "wait_less": "The expected wait is less than a minute.",
        "wait_more": "The expected wait is more than fifteen minutes.",
        "after_hours": "We are closed at the moment. Please call us again during our opening hours.",
        "voicemail": "Please leave a message after the tone, and we will call you back. Hang up when you are done.",
        "callback_offer": "To avoid waiting on the line, press one, and we will call you back as soon as an operator is free. You keep your place in the queue.",
        "callback_number": "We will call you back on the number you are calling from. If it is correct, press one. To enter another number, press two.",
        "enter_number": "Please enter your phone number, followed by the hash key.",
        "callback_confirmed": "Thank you. We will call you back when your turn comes. Goodbye.",
        "callback_offer_closed": "To be called back as soon as we open, press one.",
        "callback_confirmed_closed": "Thank you. We will call you back during our opening hours. Goodbye.",
        "invalid_choice": "That is not a valid choice. Please try again.",
        "goodbye": "Thank you for calling. Goodbye.",
    },
}

for n in range(1, MAX_POSITION + 1):
    PHRASES["ru"][f"position_{n}"] = f"Ваш номер в очереди: {RU_UNITS[n]}."
    PHRASES["en"][f"position_{n}"] = f"You are number {EN_UNITS[n]} in the queue."
for n in range(1, MAX_MINUTES + 1):
    PHRASES["ru"][f"wait_{n}"] = f"Примерное время ожидания — {ru_minutes(n)}."
    PHRASES["en"][f"wait_{n}"] = f"The expected wait is {EN_UNITS[n]} minute{'s' if n > 1 else ''}."

VOICES = {"ru": "ru", "en": "en-gb"}


def speak(lang, text, out):
    with tempfile.NamedTemporaryFile(suffix=".wav") as raw:
        subprocess.run(["espeak-ng", "-v", VOICES[lang], "-s", "150", "-w", raw.name, "--stdin"],
                       input=text.encode(), check=True)
        # The same level for every phrase, a touch below full scale, then G.711 at 8 kHz.
        subprocess.run(["sox", "-R", raw.name, "-r", "8000", "-c", "1", "-e", "u-law", out,
                        "norm", "-3"], check=True)


def main():
    for lang, phrases in PHRASES.items():
        os.makedirs(os.path.join(ASSETS, lang), exist_ok=True)
        for key, text in sorted(phrases.items()):
            speak(lang, text, os.path.join(ASSETS, lang, f"{key}.wav"))
    keys = sorted(PHRASES["ru"])
    assert keys == sorted(PHRASES["en"]), "every prompt exists in both languages"
    with open(LIST, "w", encoding="utf-8") as f:
        f.write("// Written by scripts/make-prompts.py: do not edit, run the script.\n\n")
        f.write(f"/// Positions announced as a number; beyond, `position_more`.\n")
        f.write(f"pub const MAX_POSITION: usize = {MAX_POSITION};\n")
        f.write(f"/// Minutes of expected wait announced as a number; beyond, `wait_more`.\n")
        f.write(f"pub const MAX_MINUTES: u64 = {MAX_MINUTES};\n\n")
        f.write("/// A built-in prompt: key, Russian WAV, English WAV, Russian text, English text.\n")
        f.write("pub(super) type Entry = (&'static str, &'static [u8], &'static [u8], &'static str, &'static str);\n\n")
        f.write("pub(super) static BUILT_IN: &[Entry] = &[\n")
        for key in keys:
            f.write(f'    (\n        "{key}",\n')
            for lang in ("ru", "en"):
                f.write(f'        include_bytes!("../../../../assets/prompts/{lang}/{key}.wav"),\n')
            for lang in ("ru", "en"):
                f.write(f"        {rust_str(PHRASES[lang][key])},\n")
            f.write("    ),\n")
        f.write("];\n")
    print(f"{len(keys)} prompts in {len(PHRASES)} languages", file=sys.stderr)


def rust_str(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


if __name__ == "__main__":
    main()
