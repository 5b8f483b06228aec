//! Amounts in Russian words, as invoices and acts print them: «Двадцать одна тысяча девятьсот
//! шестьдесят рублей 00 копеек». Thousands are feminine (одна тысяча, две тысячи), the rest
//! masculine; each unit takes its form by the number's last two digits.

const ONES_M: [&str; 10] =
    ["", "один", "два", "три", "четыре", "пять", "шесть", "семь", "восемь", "девять"];
const ONES_F: [&str; 10] =
    ["", "одна", "две", "три", "четыре", "пять", "шесть", "семь", "восемь", "девять"];
const TEENS: [&str; 10] = [
    "десять",
    "одиннадцать",
    "двенадцать",
    "тринадцать",
    "четырнадцать",
    "пятнадцать",
    "шестнадцать",
    "семнадцать",
    "восемнадцать",
    "девятнадцать",
];
const TENS: [&str; 10] = [
    "",
    "",
    "двадцать",
    "тридцать",
    "сорок",
    "пятьдесят",
    "шестьдесят",
    "семьдесят",
    "восемьдесят",
    "девяносто",
];
const HUNDREDS: [&str; 10] = [
    "",
    "сто",
    "двести",
    "триста",
    "четыреста",
    "пятьсот",
    "шестьсот",
    "семьсот",
    "восемьсот",
    "девятьсот",
];

/// The form of a counted word for `n`: (one, few, many), e.g. рубль, рубля, рублей.
pub fn plural<'a>(n: u64, forms: (&'a str, &'a str, &'a str)) -> &'a str {
    let (d10, d100) = (n % 10, n % 100);
    if (11..=14).contains(&d100) {
        forms.2
    } else if d10 == 1 {
        forms.0
    } else if (2..=4).contains(&d10) {
        forms.1
    } else {
        forms.2
    }
}

fn triple(n: u64, feminine: bool, out: &mut Vec<&'static str>) {
    let (h, rest) = ((n / 100) as usize, n % 100);
    if h > 0 {
        out.push(HUNDREDS[h]);
    }
    if (10..20).contains(&rest) {
        out.push(TEENS[(rest - 10) as usize]);
        return;
    }
    let (t, o) = ((rest / 10) as usize, (rest % 10) as usize);
    if t > 0 {
        out.push(TENS[t]);
    }
    if o > 0 {
        out.push(if feminine { ONES_F[o] } else { ONES_M[o] });
    }
}

/// A whole number in words; `feminine` for a feminine unit (копейка).
pub fn number(n: u64, feminine: bool) -> String {
    if n == 0 {
        return "ноль".to_owned();
    }
    // (size, feminine, forms)
    const SCALES: [(u64, bool, (&str, &str, &str)); 4] = [
        (1_000_000_000_000, false, ("триллион", "триллиона", "триллионов")),
        (1_000_000_000, false, ("миллиард", "миллиарда", "миллиардов")),
        (1_000_000, false, ("миллион", "миллиона", "миллионов")),
        (1_000, true, ("тысяча", "тысячи", "тысяч")),
    ];
    let mut words = Vec::new();
    let mut rest = n;
    for (size, fem, forms) in SCALES {
        let count = rest / size;
        if count > 0 {
            let mut part = Vec::new();
            triple(count % 1000, fem, &mut part);
            if count >= 1000 {
                // More than the largest scale: say the count itself.
                words.push(number(count, fem));
            } else {
                words.extend(part.iter().map(|w| (*w).to_owned()));
            }
            words.push(plural(count, forms).to_owned());
            rest %= size;
        }
    }
    let mut last = Vec::new();
    triple(rest, feminine, &mut last);
    words.extend(last.iter().map(|w| (*w).to_owned()));
    words.join(" ")
}

/// The names of a currency's units: (major forms, major feminine, minor forms, minor feminine).
type Units = (
    (&'static str, &'static str, &'static str),
    bool,
    (&'static str, &'static str, &'static str),
    bool,
);

fn units(currency: &str) -> Option<Units> {
    Some(match currency {
        "RUB" => (("рубль", "рубля", "рублей"), false, ("копейка", "копейки", "копеек"), true),
        "USD" => (
            ("доллар США", "доллара США", "долларов США"),
            false,
            ("цент", "цента", "центов"),
            false,
        ),
        "EUR" => (("евро", "евро", "евро"), false, ("цент", "цента", "центов"), false),
        "KZT" => (("тенге", "тенге", "тенге"), false, ("тиын", "тиына", "тиынов"), false),
        "BYN" => (
            ("белорусский рубль", "белорусских рубля", "белорусских рублей"),
            false,
            ("копейка", "копейки", "копеек"),
            true,
        ),
        _ => return None,
    })
}

/// An amount of minor units in words, with the major unit spelled out and the minor in
/// digits, capitalised: «Сто двадцать один рубль 05 копеек». A currency without Russian
/// names gets its code: «Сто двадцать один CNY 05».
pub fn amount_in_words(minor: i64, currency: &str) -> String {
    let negative = minor < 0;
    let minor = minor.unsigned_abs();
    let (major, cents) = (minor / 100, minor % 100);
    let text = match units(currency) {
        Some((major_forms, major_fem, minor_forms, _)) => format!(
            "{} {} {cents:02} {}",
            number(major, major_fem),
            plural(major, major_forms),
            plural(cents, minor_forms)
        ),
        None => format!("{} {currency} {cents:02}", number(major, false)),
    };
    let text = if negative { format!("минус {text}") } else { text };
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roubles_and_kopecks_take_their_forms() {
        assert_eq!(
            amount_in_words(2_196_000, "RUB"),
            "Двадцать одна тысяча девятьсот шестьдесят рублей 00 копеек"
        );
        assert_eq!(amount_in_words(12_105, "RUB"), "Сто двадцать один рубль 05 копеек");
        assert_eq!(amount_in_words(202, "RUB"), "Два рубля 02 копейки");
        assert_eq!(amount_in_words(1_101, "RUB"), "Одиннадцать рублей 01 копейка");
        assert_eq!(amount_in_words(0, "RUB"), "Ноль рублей 00 копеек");
        assert_eq!(amount_in_words(100_000_000, "RUB"), "Один миллион рублей 00 копеек");
        assert_eq!(amount_in_words(200_200_000, "RUB"), "Два миллиона две тысячи рублей 00 копеек");
        assert_eq!(
            amount_in_words(111_400_000, "RUB"),
            "Один миллион сто четырнадцать тысяч рублей 00 копеек"
        );
        assert_eq!(amount_in_words(2_500, "USD"), "Двадцать пять долларов США 00 центов");
        assert_eq!(amount_in_words(2_500, "CNY"), "Двадцать пять CNY 00");
    }

    #[test]
    fn plural_forms_follow_the_last_two_digits() {
        let forms = ("час", "часа", "часов");
        let said: Vec<&str> =
            [1, 2, 5, 11, 12, 21, 22, 25, 111, 101].iter().map(|n| plural(*n, forms)).collect();
        assert_eq!(
            said,
            ["час", "часа", "часов", "часов", "часов", "час", "часа", "часов", "часов", "час"]
        );
    }
}
