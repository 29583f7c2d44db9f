"""Demo data set "fr": a French university with a 0-20 grading culture (semesters, ECTS, licence/master)."""

from __future__ import annotations

NAME = {"fr": "Université de Saint-Aubin-sur-Loire", "en": "University of Saint-Aubin-sur-Loire"}
ABBREVIATION = "USAL"
ERASMUS_CODE = "F ST-AUB01"
LOCAL = "fr"
COUNTRY, CITY, POSTAL_CODE, STREET, PHONE_PREFIX = "FR", "Saint-Aubin-sur-Loire", "44800", "2 quai de la Fosse", "+332"
GRADING = {"labels": ["0-20"], "descriptions": [
    {"lang": "en", "text": "French scale from 0 to 20; 10/20 is the pass mark, 16/20 and above is excellent."},
    {"lang": "fr", "text": "Échelle française de 0 à 20 ; la moyenne (10/20) valide l'unité, "
                           "16/20 et plus est excellent."},
]}
#: Terms: (term number of 2, display names, start, end) for the academic year starting in ``year``.
TERMS = (
    (1, {"en": "Autumn semester", "fr": "Semestre d'automne"}, "09-08", "01-16"),
    (2, {"en": "Spring semester", "fr": "Semestre de printemps"}, "01-26", "06-19"),
)
#: Course variants of each subject: (code suffix, EQF level, English title, local title, ECTS, hours).
VARIANTS = (
    ("L1", 6, "{en}: introduction", "{local} : initiation", "3", 30),
    ("L2", 6, "{en}: foundations", "{local} : fondamentaux", "4", 50),
    ("L3", 6, "{en}: advanced course", "{local} : approfondissement", "5", 60),
    ("M1", 7, "Research seminar: {en}", "Séminaire de recherche : {local}", "6", 36),
    ("M2", 7, "{en}: supervised project", "{local} : projet tutoré", "6", 40),
)
#: Faculty (ounit) -> departments -> subjects (code stem, ISCED-F, English title, French title).
FACULTIES = {
    ("SCI", "Faculty of Science and Technology", "UFR Sciences et Techniques"): {
        ("MATH", "Department of Mathematics", "Département de mathématiques"): [
            ("ALG", "0541", "Linear algebra", "Algèbre linéaire"),
            ("ANA", "0541", "Real analysis", "Analyse réelle"),
            ("PRB", "0542", "Probability theory", "Théorie des probabilités"),
            ("STA", "0542", "Statistical inference", "Inférence statistique"),
            ("NUM", "0541", "Numerical methods", "Méthodes numériques"),
        ],
        ("INFO", "Department of Computer Science", "Département d'informatique"): [
            ("ALGO", "0613", "Algorithms and data structures", "Algorithmique et structures de données"),
            ("BDD", "0612", "Databases", "Bases de données"),
            ("RES", "0612", "Computer networks", "Réseaux informatiques"),
            ("IA", "0613", "Machine learning", "Apprentissage automatique"),
            ("GL", "0613", "Software engineering", "Génie logiciel"),
        ],
        ("PHYS", "Department of Physics and Chemistry", "Département de physique et chimie"): [
            ("MEC", "0533", "Classical mechanics", "Mécanique classique"),
            ("QUA", "0533", "Quantum physics", "Physique quantique"),
            ("THE", "0533", "Thermodynamics", "Thermodynamique"),
            ("CHO", "0531", "Organic chemistry", "Chimie organique"),
            ("ENV", "0521", "Environmental chemistry", "Chimie de l'environnement"),
        ],
    },
    ("LET", "Faculty of Arts and Humanities", "UFR Lettres, Langues et Sciences humaines"): {
        ("LMOD", "Department of Modern Languages", "Département de langues étrangères appliquées"): [
            ("FLE", "0231", "French as a foreign language", "Français langue étrangère"),
            ("TRA", "0231", "Translation studies", "Traductologie"),
            ("LIN", "0232", "General linguistics", "Linguistique générale"),
            ("LCE", "0232", "Comparative literature", "Littérature comparée"),
            ("CIV", "0232", "Contemporary French civilisation", "Civilisation française contemporaine"),
        ],
        ("HIST", "Department of History and Geography", "Département d'histoire et géographie"): [
            ("HMO", "0222", "Modern European history", "Histoire de l'Europe moderne"),
            ("HCO", "0222", "History of the twentieth century", "Histoire du XXe siècle"),
            ("GEO", "0314", "Urban geography", "Géographie urbaine"),
            ("PAT", "0222", "Heritage and museum studies", "Patrimoine et muséologie"),
            ("ARC", "0222", "Introduction to archaeology", "Initiation à l'archéologie"),
        ],
    },
    ("DEG", "Faculty of Law, Economics and Management", "UFR Droit, Économie et Gestion"): {
        ("DROIT", "Department of Law", "Département de droit"): [
            ("DCE", "0421", "European Union law", "Droit de l'Union européenne"),
            ("DAF", "0421", "Business law", "Droit des affaires"),
            ("DIP", "0421", "Public international law", "Droit international public"),
            ("DCO", "0421", "Comparative constitutional law", "Droit constitutionnel comparé"),
            ("DNU", "0421", "Digital law and data protection", "Droit du numérique et protection des données"),
        ],
        ("ECO", "Department of Economics and Management", "Département d'économie et gestion"): [
            ("MIC", "0311", "Microeconomics", "Microéconomie"),
            ("MAC", "0311", "Macroeconomics", "Macroéconomie"),
            ("FIN", "0412", "Corporate finance", "Finance d'entreprise"),
            ("MKT", "0414", "Marketing", "Marketing"),
            ("CPT", "0411", "Financial accounting", "Comptabilité générale"),
        ],
    },
}
