//! The words demo data is made of, in Russian and in English.

/// The language demo data is written in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DemoLang {
    /// Russian names, companies and deals (the default: our first users are Russian).
    #[default]
    Ru,
    /// English ones.
    En,
}

/// The words demo data is made of, in one language.
pub(super) struct Words {
    pub(super) manager: &'static str,
    pub(super) supervisors: [&'static str; 2],
    pub(super) team: &'static str,
    pub(super) agents: [&'static str; 12],
    pub(super) queues: [&'static str; 2],
    pub(super) companies: [&'static str; 16],
    pub(super) first_names: [(&'static str, bool); 8],
    pub(super) last_names: [&'static str; 8],
    pub(super) deals: [&'static str; 8],
}

impl DemoLang {
    pub(super) fn words(self) -> &'static Words {
        match self {
            DemoLang::Ru => &RU_WORDS,
            DemoLang::En => &EN_WORDS,
        }
    }

    /// A last name in the form for a woman (`Петров` → `Петрова`) when `female`.
    pub(super) fn last_name(self, last: &str, female: bool) -> String {
        match self {
            DemoLang::Ru if female && (last.ends_with("ов") || last.ends_with("ин")) => {
                format!("{last}а")
            }
            DemoLang::Ru if female && last.ends_with("ий") => {
                format!("{}ая", last.trim_end_matches("ий"))
            }
            _ => last.to_owned(),
        }
    }
}

const RU_WORDS: Words = Words {
    manager: "Марина Соколова",
    supervisors: ["Ольга Кузнецова", "Павел Смирнов"],
    team: "Линия",
    agents: [
        "Анна Белова",
        "Борис Гусев",
        "Вера Орлова",
        "Глеб Зайцев",
        "Дина Лебедева",
        "Егор Козлов",
        "Зоя Новикова",
        "Илья Морозов",
        "Кира Волкова",
        "Лев Соловьёв",
        "Мила Егорова",
        "Никита Павлов",
    ],
    queues: ["Продажи", "Поддержка"],
    companies: [
        "ООО «Ромашка»",
        "АО «СеверСталь-Сервис»",
        "ИП Воронцов",
        "ООО «ТехноПарк»",
        "ООО «Вектор»",
        "АО «Балтийские линии»",
        "ООО «Зелёный сад»",
        "ООО «Стройресурс»",
        "ООО «Медиа-Групп»",
        "АО «Уральский завод»",
        "ООО «Снежинка»",
        "ООО «ТрансЛогистик»",
        "ООО «Фармация»",
        "ИП Киселёва",
        "ООО «Альфа-Мебель»",
        "ООО «Горизонт»",
    ],
    first_names: [
        ("Иван", false),
        ("Пётр", false),
        ("Ольга", true),
        ("Елена", true),
        ("Сергей", false),
        ("Анна", true),
        ("Дмитрий", false),
        ("Мария", true),
    ],
    last_names: [
        "Иванов",
        "Петров",
        "Сидоров",
        "Смирнов",
        "Кузнецов",
        "Попов",
        "Волков",
        "Соколов",
    ],
    deals: [
        "Поставка оборудования",
        "Годовое обслуживание",
        "Пилотный проект",
        "Расширение лицензий",
        "Монтаж и настройка",
        "Курс обучения персонала",
        "Продление договора",
        "Партия расходников",
    ],
};

const EN_WORDS: Words = Words {
    manager: "Marina Sokolova",
    supervisors: ["Olga Kuznetsova", "Pavel Smirnov"],
    team: "Line",
    agents: [
        "Anna Belova",
        "Boris Gusev",
        "Vera Orlova",
        "Gleb Zaitsev",
        "Dina Lebedeva",
        "Egor Kozlov",
        "Zoya Novikova",
        "Ilya Morozov",
        "Kira Volkova",
        "Lev Solovyov",
        "Mila Egorova",
        "Nikita Pavlov",
    ],
    queues: ["Sales", "Support"],
    companies: [
        "Daisy Ltd",
        "Northsteel Service",
        "Vorontsov Trading",
        "TechnoPark",
        "Vector Ltd",
        "Baltic Lines",
        "Green Garden",
        "Buildresource",
        "Media Group",
        "Ural Works",
        "Snowflake Ltd",
        "TransLogistic",
        "Pharmacy Plus",
        "Kiseleva & Co",
        "Alpha Furniture",
        "Horizon Ltd",
    ],
    first_names: [
        ("Ivan", false),
        ("Peter", false),
        ("Olga", true),
        ("Elena", true),
        ("Sergey", false),
        ("Anna", true),
        ("Dmitry", false),
        ("Maria", true),
    ],
    last_names: [
        "Ivanov",
        "Petrov",
        "Sidorov",
        "Smirnov",
        "Kuznetsov",
        "Popov",
        "Volkov",
        "Sokolov",
    ],
    deals: [
        "Equipment supply",
        "Annual service",
        "Pilot project",
        "More licences",
        "Installation and setup",
        "Staff training",
        "Contract renewal",
        "Consumables batch",
    ],
};
