"""Demo data set "pl": a Polish university (grades 2.0-5.0, winter and summer semesters, ECTS)."""

from __future__ import annotations

NAME = {"pl": "Uniwersytet Nadwiślański w Białej Górze", "en": "Vistula University of Biała Góra"}
ABBREVIATION = "UNBG"
ERASMUS_CODE = "PL BIALAGO01"
LOCAL = "pl"
COUNTRY, CITY, POSTAL_CODE, STREET, PHONE_PREFIX = "PL", "Biała Góra", "87-100", "ul. Gagarina 11", "+4856"
GRADING = {"labels": ["2.0-5.0"], "descriptions": [
    {"lang": "en", "text": "Polish scale: 5.0 very good, 4.5, 4.0 good, 3.5, 3.0 satisfactory, 2.0 fail."},
    {"lang": "pl", "text": "Skala ocen: 5,0 bardzo dobry, 4,5, 4,0 dobry, 3,5, 3,0 dostateczny, 2,0 niedostateczny."},
]}
TERMS = (
    (1, {"en": "Winter semester", "pl": "Semestr zimowy"}, "10-01", "02-20"),
    (2, {"en": "Summer semester", "pl": "Semestr letni"}, "02-23", "06-30"),
)
#: Course variants of each subject: (code suffix, EQF level, English title, local title, ECTS, hours).
VARIANTS = (
    ("0", 6, "{en} - introduction", "{local} - wprowadzenie", "3", 30),
    ("1", 6, "{en} - basic course", "{local} - kurs podstawowy", "5", 60),
    ("2", 6, "{en} - advanced course", "{local} - kurs zaawansowany", "5", 60),
    ("M", 7, "Master's seminar: {en}", "Seminarium magisterskie: {local}", "4", 30),
    ("P", 7, "{en} - research project", "{local} - projekt badawczy", "6", 45),
)
FACULTIES = {
    ("WMII", "Faculty of Mathematics and Computer Science", "Wydział Matematyki i Informatyki"): {
        ("KMAT", "Chair of Mathematics", "Katedra Matematyki"): [
            ("ALG", "0541", "Linear algebra with geometry", "Algebra liniowa z geometrią"),
            ("ANM", "0541", "Mathematical analysis", "Analiza matematyczna"),
            ("RP", "0542", "Probability and statistics", "Rachunek prawdopodobieństwa i statystyka"),
            ("MD", "0541", "Discrete mathematics", "Matematyka dyskretna"),
            ("RR", "0541", "Differential equations", "Równania różniczkowe"),
        ],
        ("KINF", "Chair of Computer Science", "Katedra Informatyki"): [
            ("PO", "0613", "Object-oriented programming", "Programowanie obiektowe"),
            ("SO", "0612", "Operating systems", "Systemy operacyjne"),
            ("SI", "0613", "Artificial intelligence", "Sztuczna inteligencja"),
            ("BD", "0612", "Database systems", "Systemy baz danych"),
            ("GK", "0613", "Computer graphics", "Grafika komputerowa"),
        ],
    },
    ("WFAIS", "Faculty of Physics and Astronomy", "Wydział Fizyki i Astronomii"): {
        ("KFIZ", "Chair of Physics", "Katedra Fizyki"): [
            ("FJ", "0533", "Nuclear physics", "Fizyka jądrowa"),
            ("OP", "0533", "Optics and photonics", "Optyka i fotonika"),
            ("FCS", "0533", "Solid state physics", "Fizyka ciała stałego"),
            ("AST", "0533", "Astrophysics", "Astrofizyka"),
            ("EL", "0714", "Electronics for physicists", "Elektronika dla fizyków"),
        ],
    },
    ("WH", "Faculty of Humanities", "Wydział Humanistyczny"): {
        ("IFP", "Institute of Polish Philology", "Instytut Filologii Polskiej"): [
            ("JPO", "0231", "Polish as a foreign language", "Język polski jako obcy"),
            ("LPR", "0232", "Polish Romantic literature", "Literatura polskiego romantyzmu"),
            ("KP", "0232", "Polish culture after 1989", "Kultura polska po 1989 roku"),
            ("JEZ", "0232", "Slavic linguistics", "Językoznawstwo słowiańskie"),
            ("TEA", "0215", "Polish theatre and film", "Teatr i film polski"),
        ],
        ("IH", "Institute of History", "Instytut Historii"): [
            ("HP", "0222", "History of Poland", "Historia Polski"),
            ("HES", "0222", "History of Central Europe", "Historia Europy Środkowej"),
            ("HSG", "0222", "Economic history of the Hanseatic towns", "Historia gospodarcza miast hanzeatyckich"),
            ("ARCH", "0222", "Archaeology of the Vistula valley", "Archeologia doliny Wisły"),
            ("MUZ", "0222", "Museology", "Muzealnictwo"),
        ],
    },
    ("WNEiZ", "Faculty of Economic Sciences and Management", "Wydział Nauk Ekonomicznych i Zarządzania"): {
        ("KEK", "Chair of Economics", "Katedra Ekonomii"): [
            ("MIK", "0311", "Microeconomics", "Mikroekonomia"),
            ("MAK", "0311", "Macroeconomics", "Makroekonomia"),
            ("EM", "0311", "Econometrics", "Ekonometria"),
            ("EU", "0311", "Economics of European integration", "Ekonomia integracji europejskiej"),
            ("FP", "0412", "Public finance", "Finanse publiczne"),
        ],
        ("KZ", "Chair of Management", "Katedra Zarządzania"): [
            ("ZP", "0413", "Project management", "Zarządzanie projektami"),
            ("ZZL", "0413", "Human resource management", "Zarządzanie zasobami ludzkimi"),
            ("LOG", "0413", "Logistics", "Logistyka"),
            ("MAR", "0414", "International marketing", "Marketing międzynarodowy"),
            ("RACH", "0411", "Accounting", "Rachunkowość"),
        ],
    },
}
